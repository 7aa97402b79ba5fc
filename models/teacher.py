"""Teacher data: espeak-ng synthesis of real words, animated by the coarticulation model. Offline.

For each language: pseudo-sentences drawn from the pack's sample sentences when it has them, else from
wordfreq's frequency list; spoken at varied rates (``visemes.speech.synthesis.speak``); animated at a frame
rate drawn from 24/25/30/50/60 (``visemes.mouth.coarticulation.animate_phones``) with the pack's phone targets.
A ``pack_transform`` changes the pack's targets to make synthetic dialects (tests, demos).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Callable, Iterable, Mapping, Sequence

import numpy as np

from visemes.core.curves import SUPPORTED_FPS, frame_count
from visemes.core.errors import VisemesError
from visemes import lang_packs
from visemes.lang_packs import LanguagePack, PhoneLookup, PhoneSpec
from visemes.lang_packs.samples import sample_sentences, wordfreq_code
from visemes.mouth.coarticulation import CoarticulationParams, animate_phones, params_for
from visemes.speech.synthesis import speak

from visemes.models.audio_features import audio_features
from visemes.models.data import Example, example_from_animation
from visemes.models.vocab import Vocab

RATES: tuple[int, ...] = (120, 150, 175, 200, 240)


def word_list(lang: str, n: int = 1500, pack: LanguagePack | None = None) -> list[str]:
    """Frequent words of ``lang`` (wordfreq), or [] if wordfreq has no list for it."""
    import wordfreq  # heavy/optional: wordfreq (~0.1 s, a test extra), only for teacher word lists

    code = wordfreq_code(lang, pack)
    if code not in wordfreq.available_languages():
        return []
    return [w for w in wordfreq.top_n_list(code, n) if any(ch.isalpha() for ch in w)]


def texts_for(lang: str, pack: LanguagePack, n: int, rng: np.random.Generator) -> list[str]:
    sentences = sample_sentences(pack.code)
    words = word_list(lang, pack=pack)
    out: list[str] = []
    for i in range(n):
        if sentences and (not words or i % 2 == 0):
            out.append(sentences[int(rng.integers(len(sentences)))])
        elif words:
            k = int(rng.integers(3, 10))
            # Zipf-ish draw: frequent words more often, but the tail shows up too
            idx = np.minimum((rng.pareto(0.7, k) * 40).astype(int), len(words) - 1)
            out.append(" ".join(words[j] for j in idx))
    return out


@dataclass(frozen=True)
class TargetPack:
    """A pack whose phone targets/visemes are changed by ``transform(spec) -> spec`` (synthetic dialects)."""

    pack: LanguagePack
    transform: Callable[[PhoneSpec], PhoneSpec]

    @property
    def code(self) -> str:
        return self.pack.code

    @property
    def mouth(self) -> Mapping[str, float]:
        """The pack's [mouth] settings of the coarticulation rules (the dialect keeps them)."""
        return self.pack.mouth

    def phone(self, symbol: str) -> PhoneSpec:
        return self.transform(self.pack.phone(symbol))


#: a lip target the coarticulation teacher treats as specified on any phone (its default threshold)
_LIP_TARGET_MIN = CoarticulationParams().specified_threshold


def rounded_dialect(spec: PhoneSpec) -> PhoneSpec:
    """A synthetic dialect for adapter tests and benchmarks: much stronger lip rounding and protrusion on
    every rounded phone, and /s z/ merged into one rounded sibilant (a 'merged phoneme').

    The rounding is at least the teacher's ``specified_threshold``: below it a consonant's lip shape is
    incidental and its neighbours' shape wins, so a rounded /s/ at 0.3 would not be rounded at all."""
    target = dict(spec.target)
    if target["lip_round"] > 0.05 or spec.symbol in ("s", "z"):
        for p in ("lip_round", "lip_protrude"):
            target[p] = max(_LIP_TARGET_MIN, min(1.0, target[p] * 2.0 + 0.3))
        target["lip_spread"] = 0.0
    return dataclasses.replace(spec, target=target)


def teacher_examples(
    langs: Sequence[str],
    per_lang: int,
    vocab: Vocab,
    *,
    seed: int = 0,
    rates: Sequence[int] = RATES,
    fps_choices: Sequence[float] = SUPPORTED_FPS,
    pack_transform: Callable[[PhoneSpec], PhoneSpec] | None = None,
    tag: str | None = None,
    with_audio: bool = True,
    progress: Callable[[Iterable], Iterable] | None = None,
) -> list[Example]:
    """``per_lang`` teacher examples per language (deterministic for a seed). ``tag`` overrides the
    language code stored with the examples (e.g. a dialect name)."""
    rng = np.random.default_rng(seed)
    examples: list[Example] = []
    jobs = []
    for lang in langs:
        pack = lang_packs.load(lang)
        for text in texts_for(lang, pack, per_lang, rng):
            jobs.append((lang, pack, text, int(rng.choice(rates)), float(rng.choice(fps_choices))))
    for lang, pack, text, rate, fps in (progress(jobs) if progress else jobs):
        try:
            spoken = speak(text, lang, rate=rate)
        except VisemesError:
            continue  # a word espeak cannot say: skip the sentence, keep the run going
        timed = spoken.alignment
        if not len(timed.phones):
            continue
        teacher_pack: PhoneLookup = TargetPack(pack, pack_transform) if pack_transform else pack
        # with the audio, as animate() gives it: the model sees loudness and learns the jaw's effort scaling.
        # The viseme targets are the phones' own (dominance) weights with the closure rule, not the weights
        # refitted to the articulation: those are a function of the curves the model already predicts, and
        # as targets they keep a small model from learning the lip shapes (tests/models/test_train.py)
        params = params_for(teacher_pack, fit_visemes=False)
        anim = animate_phones(timed.phones, teacher_pack, fps, timed.duration, params=params,
                              audio=spoken.audio if with_audio else None, sample_rate=spoken.sample_rate)
        feats = None
        if with_audio:
            times = np.arange(frame_count(timed.duration, fps)) / fps
            feats = audio_features(spoken.audio, spoken.sample_rate, times)[: anim.n_frames]
        examples.append(example_from_animation(timed, anim, vocab, lang=tag or lang, audio_features=feats))
    return examples
