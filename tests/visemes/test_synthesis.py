"""espeak-ng synthesis through ctypes, and the timing of transcripts from its phoneme events."""

from __future__ import annotations

import functools

import numpy as np
import pytest

from visemes.core.errors import InputError, TranscriptError
from visemes.speech.time_transfer import base_symbol, transfer_times, transfer_times_detailed
from visemes.speech.synthesis import alignment_from_events, speak, synthesize, timed_phonemes
from visemes.core.timeline import PhoneToken, Transcript, WordPhones

SENTENCES = {
    "en-us": "Hello world, this is a church.",
    "cmn": "你好世界，我们走吧。",
    "ar": "مرحبا بالعالم",
    "hi": "नमस्ते दुनिया",
}


@functools.lru_cache(maxsize=None)
def _raw_transcript(voice: str, text: str) -> Transcript:
    """espeak's own IPA via phonemizer (a second copy of the library in the same process)."""
    import espeakng_loader
    from phonemizer.backend import EspeakBackend
    from phonemizer.backend.espeak.wrapper import EspeakWrapper
    from phonemizer.separator import Separator

    EspeakWrapper.set_library(espeakng_loader.get_library_path())
    EspeakWrapper.set_data_path(espeakng_loader.get_data_path())
    backend = EspeakBackend(voice, with_stress=True, language_switch="remove-flags")
    ipa = backend.phonemize([text], separator=Separator(phone=" ", word=" | "), strip=True)[0]
    return Transcript.from_ipa(ipa, lang=voice)


@functools.lru_cache(maxsize=None)
def _synth(text: str, voice: str, rate: int = 175):
    return synthesize(text, voice, rate=rate)


def _zcr(segment: np.ndarray) -> float:
    return float(np.mean(np.signbit(segment[1:]) != np.signbit(segment[:-1])))


def _check_alignment(alignment, transcript, n_samples, sample_rate):
    phones = alignment.phones
    assert phones.labels == transcript.symbols  # every transcript phone, same order
    assert [dict(p.attrs) for p in phones] == [dict(t.attrs) for t in transcript.phones]
    assert phones[0].start >= 0 and phones[-1].end <= n_samples / sample_rate + 1e-9
    assert all(p.duration > 0.005 for p in phones)
    assert alignment.words.labels == [w.text for w in transcript.words]
    alignment.check_nesting()
    for word, wp in zip(alignment.words, transcript.words):
        assert len(alignment.phones_of(word)) == len(wp.phones)


def test_synthesize_produces_speech_and_ordered_events():
    audio, sr, events = _synth(SENTENCES["en-us"], "en-us")
    assert audio.dtype == np.float32 and audio.ndim == 1 and sr == 22050
    assert 1.0 < len(audio) / sr < 3.0  # six words at 175 wpm
    assert float(np.sqrt(np.mean(audio**2))) > 0.02 and np.abs(audio).max() <= 1.0
    samples = [e.sample for e in events]
    assert samples == sorted(samples) and samples[-1] <= len(audio)
    kinds = {e.kind for e in events}
    assert {"phoneme", "word", "end"} <= kinds
    assert sum(e.kind == "word" for e in events) == 6
    names = [name for name, _, _ in timed_phonemes(events, len(audio))]
    assert [base_symbol(n) for n in names[:4]] == ["h", "ə", "l", "oʊ"]


def test_event_times_match_the_signal():
    """Inside /s/ intervals the waveform is fricative noise (high zero-crossing rate), inside vowels it
    is voiced (low rate); 5 ms frames classified by ZCR agree with the event labels, and the agreement
    drops when the labels are shifted by 30 ms, so the times are really where the sounds are."""
    audio, sr, events = _synth("sasasa sasa", "en-us")
    timed = timed_phonemes(events, len(audio))
    for name, start, end in timed:
        trim = (end - start) // 5
        z = _zcr(audio[start + trim : end - trim])
        if base_symbol(name) == "s":
            assert z > 0.35, (name, z)
        else:
            assert z < 0.2, (name, z)

    hop = int(0.005 * sr)

    def agreement(shift: int) -> float:
        hits = total = 0
        for name, start, end in timed:
            for a in range(start, end - hop, hop):
                b = a + hop
                if not (0 <= a + shift and b + shift <= len(audio)):
                    continue
                noisy = _zcr(audio[a + shift : b + shift]) > 0.3
                hits += noisy == (base_symbol(name) == "s")
                total += 1
        return hits / total

    exact = agreement(0)
    assert exact > 0.93
    assert agreement(int(0.030 * sr)) < exact - 0.1
    assert agreement(-int(0.030 * sr)) < exact - 0.1


def test_rate_changes_durations():
    text = SENTENCES["en-us"]
    slow, sr, ev_slow = _synth(text, "en-us", 100)
    fast, _, ev_fast = _synth(text, "en-us", 300)
    assert len(slow) / len(fast) > 1.8
    d_slow = [e - s for _, s, e in timed_phonemes(ev_slow, len(slow))]
    d_fast = [e - s for _, s, e in timed_phonemes(ev_fast, len(fast))]
    assert len(d_slow) == len(d_fast)
    assert np.median(np.array(d_slow) / np.array(d_fast)) > 1.8


def test_pitch_changes_the_voice():
    low, sr, _ = synthesize("aaa", "en-us", pitch=10)
    high, _, _ = synthesize("aaa", "en-us", pitch=90)
    # voiced speech: more zero crossings at the higher pitch
    assert _zcr(high) > _zcr(low) * 1.2


@pytest.mark.parametrize("voice", sorted(SENTENCES))
def test_raw_transcript_timing_across_languages(voice):
    text = SENTENCES[voice]
    audio, sr, events = _synth(text, voice)
    transcript = _raw_transcript(voice, text)
    alignment = alignment_from_events(transcript, events, sr, len(audio), {"voice": voice})
    _check_alignment(alignment, transcript, len(audio), sr)
    assert alignment.meta["untimed_phones"] == 0 and alignment.meta["voice"] == voice
    # raw espeak IPA equals the event names up to tone digits, so each phone is exactly one event
    starts = [s / sr for _, s, _ in timed_phonemes(events, len(audio))]
    assert np.allclose(alignment.phones.intervals[0].start, starts[0])
    assert len(starts) == len(alignment.phones)
    assert np.allclose([p.start for p in alignment.phones], starts)


def test_pause_between_words_stays_a_gap():
    text = SENTENCES["en-us"]
    audio, sr, events = _synth(text, "en-us")
    alignment = alignment_from_events(_raw_transcript("en-us", text), events, sr, len(audio))
    world, this = alignment.words[1], alignment.words[2]
    assert this.start - world.end > 0.1  # the comma pause


def _normalized_like_a_pack(transcript: Transcript) -> Transcript:
    """Imitate a pack normalizer: tones to attrs, ties, split diphthongs, retroflex letters, length."""
    words = []
    for word in transcript.words:
        out = []
        for p in word.phones:
            sym = p.symbol.replace("ˈ", "").replace("ˌ", "")
            tone = sym[-1] if sym[-1].isdigit() else None
            sym = sym.rstrip("0123456789")
            attrs = {"tone": tone} if tone else {}
            if sym == "ɑu":
                out += [PhoneToken("a", attrs), PhoneToken("u", attrs)]
            elif sym == "ou":
                out += [PhoneToken("o", attrs), PhoneToken("u", attrs)]
            elif sym in ("ts", "tɕ", "tʃ"):
                out.append(PhoneToken(sym[0] + "\u0361" + sym[1:], attrs))
            elif sym.endswith("."):
                out.append(PhoneToken({"s": "ʂ", "i": "ɻ̩"}[sym[0]], attrs))
            elif sym == "χ":
                out.append(PhoneToken("x", attrs))
            else:
                out.append(PhoneToken(sym, attrs))
        words.append(WordPhones(word.text, tuple(out)))
    return Transcript(tuple(words), transcript.lang)


@pytest.mark.parametrize("voice", ["cmn", "en-us"])
def test_normalized_transcript_is_timed(voice):
    text = SENTENCES[voice]
    audio, sr, events = _synth(text, voice)
    raw = _raw_transcript(voice, text)
    normalized = _normalized_like_a_pack(raw)
    alignment = alignment_from_events(normalized, events, sr, len(audio))
    _check_alignment(alignment, normalized, len(audio), sr)
    raw_alignment = alignment_from_events(raw, events, sr, len(audio))
    # words keep their raw-event spans
    for w_norm, w_raw in zip(alignment.words, raw_alignment.words):
        assert w_norm.start == pytest.approx(w_raw.start) and w_norm.end == pytest.approx(w_raw.end)
    if voice == "cmn":
        labels = alignment.phones.labels
        a = labels.index("a")
        assert labels[a + 1] == "u" and alignment.phones[a].attrs["tone"] == "2"
        # the split diphthong's halves divide the event of "ɑu" exactly
        event = next(iv for iv in raw_alignment.phones if iv.label == "ˈɑu2")
        assert alignment.phones[a].start == pytest.approx(event.start)
        assert alignment.phones[a + 1].end == pytest.approx(event.end)
        assert alignment.phones[a].end == pytest.approx(event.midpoint)


def test_transfer_times_merges_splits_and_fills():
    timed = [("t", 0.0, 1.0), ("s", 1.0, 2.0), ("ˈaɪ", 2.0, 4.0), ("ə", 4.0, 5.0), ("m", 5.0, 6.0), ("p", 8.0, 9.0)]
    # affricate merges t+s, diphthong splits, the schwa is dropped, an unseen ʔ is inserted before p
    spans = transfer_times(timed, ["t͡s", "a", "ɪ", "m", "ʔ", "p"], groups=[0, 0, 0, 0, 1, 1])
    assert spans[0] == (0.0, 2.0)
    assert spans[1] == (2.0, 3.0) and spans[2] == (3.0, 4.5)  # ɪ takes the first half of the dropped ə
    assert spans[3] == (4.5, 6.0)
    # ʔ is across the pause from m, in p's word: it shares p's span (equal weights)
    assert spans[4] == (8.0, 8.5) and spans[5] == (8.5, 9.0)
    detailed = transfer_times_detailed(timed, ["t͡s", "a", "ɪ", "m", "ʔ", "p"], groups=[0, 0, 0, 0, 1, 1])
    assert detailed.matched == (True, True, True, True, False, True) and detailed.n_unmatched == 1
    assert list(detailed.spans) == spans


def test_transfer_times_inserted_phone_between_touching_neighbours():
    spans = transfer_times([("a", 0.0, 1.0), ("b", 1.0, 3.0)], ["a", "ʔ", "b"])
    # donors keep weights 1 and 2, the inserted phone gets their mean 1.5: edges at 0, 0.667, 1.667, 3
    edges = np.array([0.0, 1.0, 2.5, 4.5]) * 3.0 / 4.5
    assert np.allclose(spans, list(zip(edges[:-1], edges[1:])))


def test_base_symbol():
    assert base_symbol("ˈaː") == "a"
    assert base_symbol("t͡ʃ") == "tʃ" and base_symbol("ʧ") == "tʃ"
    assert base_symbol("i5") == "i" and base_symbol("s.") == "s"
    assert base_symbol("tʰ") == "t" and base_symbol("ɡ") == "g"
    assert base_symbol("a˥˩") == "a"


def test_errors_are_clear():
    with pytest.raises(TranscriptError, match="empty"):
        synthesize("   ", "en-us")
    with pytest.raises(InputError, match="no voice"):
        synthesize("hello", "xx-no-such-voice")
    with pytest.raises(InputError, match="rate"):
        synthesize("hello", "en-us", rate=5)
    with pytest.raises(InputError, match="pitch"):
        synthesize("hello", "en-us", pitch=101)


def test_voice_by_language_name():
    # "fr-fr" is a language of the voice file "roa/fr", not a voice name: it is resolved to it
    by_language, _, _ = synthesize("bonjour", "fr-fr+f3")
    by_file, _, _ = synthesize("bonjour", "roa/fr+f3")
    assert abs(len(by_language) - len(by_file)) < 200


def test_variant_voice_and_phonemizer_coexist():
    audio_m, _, _ = synthesize("hello there", "en-us")
    audio_f, _, _ = synthesize("hello there", "en-us+f3")
    assert not np.array_equal(audio_m[: min(len(audio_m), len(audio_f))], audio_f[: min(len(audio_m), len(audio_f))])
    # phonemizer's copy of the library runs beside ours without disturbing either. (espeak-ng keeps its
    # waveform generator's phase between calls, so repeats differ by a few samples, not in content.)
    _raw_transcript.cache_clear()
    before, sr, ev_before = synthesize("hello there", "en-us")
    assert _raw_transcript("en-us", "hello there").symbols[0] == "h"
    after, _, ev_after = synthesize("hello there", "en-us")
    assert abs(len(before) - len(after)) < 0.005 * sr
    names = lambda ev, n: [name for name, _, _ in timed_phonemes(ev, n)]  # noqa: E731
    assert names(ev_before, len(before)) == names(ev_after, len(after))


class _RawPack:
    """A minimal stand-in for a language pack: espeak's own IPA as its transcript."""

    def __init__(self, code: str):
        self.code = self.voice = code

    def phonemize(self, text: str) -> Transcript:
        return _normalized_like_a_pack(_raw_transcript(self.voice, text))

    def spoken_text(self, text: str) -> str:
        return text  # no reader: espeak says the text as written


def test_speak_with_pack_returns_audio_and_the_packs_phones():
    from visemes.speech.synthesis import speak_with_pack

    pack = _RawPack("cmn")
    spoken = speak_with_pack(SENTENCES["cmn"], pack, rate=150)
    assert spoken.sample_rate == 22050 and spoken.duration == pytest.approx(spoken.alignment.duration)
    assert spoken.alignment.meta["lang"] == "cmn" and spoken.alignment.meta["rate"] == 150
    _check_alignment(spoken.alignment, pack.phonemize(SENTENCES["cmn"]), len(spoken.audio), spoken.sample_rate)
    with pytest.raises(InputError):
        speak_with_pack("", pack)
    with pytest.raises(InputError, match="no voice"):
        speak_with_pack("你好", pack, voice="zz-none")


@pytest.mark.parametrize("lang", sorted(SENTENCES))
def test_speak_times_the_packs_transcript(lang):
    from visemes import lang_packs
    from visemes.speech.synthesis import speak

    text = SENTENCES[lang]
    spoken = speak(text, lang)
    transcript = lang_packs.load(lang).phonemize(text)
    _check_alignment(spoken.alignment, transcript, len(spoken.audio), spoken.sample_rate)
    assert spoken.alignment.meta["lang"] == lang_packs.load(lang).code
    assert spoken.alignment.duration == pytest.approx(spoken.duration)
    # the phones cover the voiced speech: most of the audio energy lies inside phone intervals
    audio, sr = spoken.audio, spoken.sample_rate
    inside = np.zeros(len(audio), dtype=bool)
    for p in spoken.alignment.phones:
        inside[int(p.start * sr) : int(p.end * sr)] = True
    energy = audio.astype(np.float64) ** 2
    assert energy[inside].sum() > 0.97 * energy.sum()


def test_speak_with_a_voice_variant():
    from visemes.speech.synthesis import speak

    fast = speak("Good morning", "en-us", voice="en-us+f3", rate=220)
    normal = speak("Good morning", "en-us")
    assert fast.alignment.meta["voice"] == "en-us+f3" and normal.alignment.meta["voice"] == "en-us"
    assert fast.alignment.words.labels == normal.alignment.words.labels == ["Good", "morning"]
    assert fast.alignment.phones.labels == normal.alignment.phones.labels
    assert fast.duration < 0.9 * normal.duration


def test_concurrent_synthesis_is_serialized():
    from concurrent.futures import ThreadPoolExecutor

    texts = ["one two three", "sasasa", "hello world", "good morning"] * 2
    expected = {t: [n for n, _, _ in timed_phonemes(*_events_of(t))] for t in set(texts)}
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda t: (t, synthesize(t, "en-us")), texts))
    for text, (audio, _, events) in results:
        assert [n for n, _, _ in timed_phonemes(events, len(audio))] == expected[text]
        assert all(e.sample <= len(audio) for e in events)


def _events_of(text):
    audio, _, events = synthesize(text, "en-us")
    return events, len(audio)


@pytest.mark.parametrize("rate", [80, 450, 600])
def test_extreme_rates_give_ordered_disjoint_timings(rate):
    # espeak reports some phoneme events out of order at fast rates; timings must stay valid
    text = "Cats sleep on warm sofas all day and night while the dogs bark outside."
    spoken = speak(text, "en-US", rate=rate)
    starts = [iv.start for iv in spoken.alignment.phones]
    assert starts == sorted(starts) and len(spoken.alignment.words) == len(text.split())


def _timing(audio, events):
    return len(audio), [(e.kind, e.name, e.sample) for e in events]


def test_same_text_gets_the_same_timing_whatever_was_spoken_before():
    # espeak-ng's pitch flutter keeps state across calls and changed durations by a few samples; the
    # steady variant makes lengths and phoneme times reproducible (the waveform's phase still carries
    # over from the previous utterance inside one loaded library, which spectra do not see)
    a, _, ev_a = synthesize("Hello world, this is a test.", "en-us", 175, 50)
    synthesize("Something else entirely, longer and different.", "en-us", 175, 50)
    b, _, ev_b = synthesize("Hello world, this is a test.", "en-us", 175, 50)
    assert _timing(a, ev_a) == _timing(b, ev_b)


def test_timing_is_the_same_in_a_fresh_process():
    import json
    import subprocess
    import sys

    code = ("import json; from visemes.speech.synthesis import synthesize; "
            "a, _, ev = synthesize('Good morning.', 'en-us', 175, 50); "
            "print(json.dumps([len(a), [(e.kind, e.name, e.sample) for e in ev]]))")
    synthesize("An utterance first, so this process has history.", "en-us", 175, 50)
    here = _timing(*[x for i, x in enumerate(synthesize("Good morning.", "en-us", 175, 50)) if i != 1])
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    n, events = json.loads(run.stdout.strip().splitlines()[-1])
    assert (n, [tuple(e) for e in events]) == here
