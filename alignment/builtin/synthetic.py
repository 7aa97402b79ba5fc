"""Synthetic speech with exact phone times (espeak-ng via visemes.speech.synthesis), for the prior, tests, benchmark.

The sentences are written for this project (no third-party text). Two disjoint language groups: the
prior and any tuning use ``PRIOR_LANGS`` with espeak's default voice; the benchmark uses
``BENCH_LANGS`` with other voice variants, rates, pitches and added noise (``BENCH_CONDITIONS``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from visemes.core.timeline import Alignment, Interval, PhoneToken, Tier, Transcript, WordPhones
from visemes.lang_packs import load as load_pack
from visemes.speech.synthesis import speak

SENTENCES: dict[str, tuple[str, ...]] = {
    "es": ("el perro come pan en la cocina", "mañana vamos a la playa con mis amigos",
           "la casa tiene tres ventanas grandes", "me gusta leer libros por la noche"),
    "de": ("der Hund schläft unter dem Tisch", "morgen fahren wir mit dem Zug nach Berlin",
           "das Wasser ist heute sehr kalt", "meine Schwester kocht gern Suppe"),
    "it": ("il gatto dorme sul divano", "domani andiamo al mercato presto",
           "la finestra della cucina è aperta", "mio fratello suona la chitarra"),
    "pl": ("pies śpi pod stołem", "jutro pojedziemy pociągiem do miasta",
           "woda w rzece jest zimna", "moja siostra lubi czytać książki"),
    "tr": ("köpek masanın altında uyuyor", "yarın trenle şehre gideceğiz",
           "bugün deniz çok soğuk", "kız kardeşim çorba pişiriyor"),
    "id": ("anjing itu tidur di bawah meja", "besok kami pergi ke pasar pagi",
           "air sungai itu sangat dingin", "adik saya suka membaca buku"),
    "ru": ("собака спит под столом", "завтра мы поедем в город на поезде",
           "вода в реке очень холодная", "моя сестра любит читать книги"),
    "hi": ("कुत्ता मेज़ के नीचे सो रहा है", "कल हम बाज़ार जाएंगे",
           "नदी का पानी बहुत ठंडा है", "मेरी बहन किताबें पढ़ती है"),
    # benchmark-only languages
    "pt": ("o cachorro dorme debaixo da mesa", "amanhã vamos ao mercado cedo",
           "a água do rio está muito fria", "minha irmã gosta de ler livros"),
    "nl": ("de hond slaapt onder de tafel", "morgen gaan we met de trein naar de stad",
           "het water is vandaag erg koud", "mijn zus leest graag boeken"),
    "fi": ("koira nukkuu pöydän alla", "huomenna menemme junalla kaupunkiin",
           "joen vesi on hyvin kylmää", "siskoni lukee mielellään kirjoja"),
    "sw": ("mbwa analala chini ya meza", "kesho tutaenda sokoni asubuhi",
           "maji ya mto ni baridi sana", "dada yangu anapenda kusoma vitabu"),
    "cs": ("pes spí pod stolem", "zítra pojedeme vlakem do města",
           "voda v řece je velmi studená", "moje sestra ráda čte knihy"),
    "ro": ("câinele doarme sub masă", "mâine mergem la piață devreme",
           "apa râului este foarte rece", "sora mea citește cărți"),
    "hu": ("a kutya az asztal alatt alszik", "holnap vonattal megyünk a városba",
           "a folyó vize nagyon hideg", "a húgom szeret olvasni"),
    "el": ("ο σκύλος κοιμάται κάτω από το τραπέζι", "αύριο θα πάμε στην αγορά",
           "το νερό του ποταμού είναι κρύο", "η αδελφή μου διαβάζει βιβλία"),
    "ko": ("개가 책상 아래에서 자요", "내일 시장에 갈 거예요", "강물이 아주 차가워요", "제 동생은 책을 좋아해요"),
    "cmn": ("小狗在桌子下面睡觉", "明天我们去市场", "河水非常冷", "我妹妹喜欢看书"),
}
PRIOR_LANGS = ("es", "de", "it", "pl", "tr", "id", "ru", "hi")
BENCH_LANGS = ("pt", "nl", "fi", "sw", "cs", "ro", "hu", "el", "ko", "cmn")


@dataclass(frozen=True)
class Condition:
    """How a synthetic utterance is made: espeak voice variant, rate (wpm), pitch, noise SNR (dB, None = clean)."""

    variant: str = ""
    rate: int = 175
    pitch: int = 50
    snr_db: float | None = None
    lead: float = 0.3  # seconds of (noisy) silence before and after
    trail: float = 0.3


CLEAN = Condition()
BENCH_CONDITIONS = (
    Condition("+f3", 140, 70, 20.0, 0.45, 0.25),
    Condition("+m3", 210, 35, 15.0, 0.25, 0.5),
    Condition("+f2", 175, 60, 25.0, 0.35, 0.35),
)


@dataclass(frozen=True)
class SyntheticItem:
    key: str
    lang: str
    audio: np.ndarray
    sample_rate: int
    alignment: Alignment

    @property
    def transcript(self) -> Transcript:
        """The words and phones the audio says (its gold alignment's labels, without times)."""
        words = tuple(WordPhones(w.label, tuple(PhoneToken(p.label) for p in self.alignment.phones_of(w)))
                      for w in self.alignment.words)
        return Transcript(words, self.lang)


def _noise(n: int, rng: np.random.Generator, colour: float) -> np.ndarray:
    white = rng.standard_normal(n)
    if colour <= 0:
        return white
    # one-pole low-pass: brown-ish room noise mixed into the white floor
    from scipy.signal import lfilter  # heavy: scipy.signal (~0.7 s), only for coloured noise

    red = lfilter([1.0], [1.0, -colour], white)
    red /= red.std() + 1e-12
    return 0.5 * white + red


def make_item(text: str, lang: str, condition: Condition = CLEAN, *, key: str = "", seed: int = 0) -> SyntheticItem:
    """Synthesise ``text`` with padding and noise; the alignment's times are shifted by the lead-in."""
    pack = load_pack(lang)
    voice = pack.voice + condition.variant if condition.variant else None
    spoken = speak(text, lang, rate=condition.rate, pitch=condition.pitch, voice=voice)
    sr = spoken.sample_rate
    audio = np.asarray(spoken.audio, np.float64)
    rng = np.random.default_rng(seed)
    lead, trail = int(condition.lead * sr), int(condition.trail * sr)
    padded = np.concatenate([np.zeros(lead), audio, np.zeros(trail)])
    power = float(np.mean(audio[np.abs(audio) > 0.02 * np.abs(audio).max()] ** 2)) if audio.size else 1e-6
    if condition.snr_db is not None:
        noise = _noise(len(padded), rng, 0.95)
        noise *= np.sqrt(power / 10 ** (condition.snr_db / 10) / np.mean(noise**2))
    else:
        noise = rng.standard_normal(len(padded)) * np.sqrt(power) * 1e-3  # a quiet floor, not digital zero
    padded = (padded + noise).astype(np.float32)
    shift = lead / sr
    tiers = tuple(
        Tier(t.name, tuple(Interval(iv.start + shift, iv.end + shift, iv.label, iv.attrs) for iv in t))
        for t in spoken.alignment.tiers
    )
    al = Alignment(tiers, len(padded) / sr, {**spoken.alignment.meta, "condition": repr(condition)})
    return SyntheticItem(key or f"{lang}-{abs(hash(text)) % 10**6}", lang, padded, sr, al)


def iter_set(langs, conditions, sentences_per_lang: int = 4, seed: int = 0) -> Iterator[SyntheticItem]:
    for li, lang in enumerate(langs):
        for si, text in enumerate(SENTENCES[lang][:sentences_per_lang]):
            cond = conditions[(li + si) % len(conditions)]
            yield make_item(text, lang, cond, key=f"{lang}-{si}", seed=seed * 1000 + li * 10 + si)
