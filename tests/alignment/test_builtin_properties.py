"""Properties of every alignment, under hypothesis-generated audio and transcripts."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from visemes.alignment.builtin import BuiltinAligner
from visemes.core.timeline import PhoneToken, Transcript, WordPhones

SR = 16_000
SYMBOLS = ["a", "i", "u", "e", "o", "p", "t", "k", "b", "d", "s", "ʃ", "m", "n", "l", "r", "j", "w", "tʃ", "aː", "ŋ"]
ALIGNER = BuiltinAligner()


def _audio(seed: int, seconds: float, n_bursts: int) -> np.ndarray:
    """Noise floor plus voiced-like harmonic bursts and fricative-like noise bursts."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    t = np.arange(n) / SR
    audio = rng.normal(size=n) * 0.003
    for _ in range(n_bursts):
        a = rng.uniform(0, seconds * 0.8)
        d = rng.uniform(0.05, 0.3)
        m = (t >= a) & (t < a + d)
        if rng.random() < 0.6:
            f0 = rng.uniform(90, 250)
            audio[m] += 0.3 * sum(np.sin(2 * np.pi * f0 * h * t[m]) / h for h in range(1, 6))
        else:
            audio[m] += rng.normal(size=m.sum()) * 0.2
    return audio.astype(np.float32)


words_strategy = st.lists(
    st.lists(st.sampled_from(SYMBOLS), min_size=1, max_size=5), min_size=1, max_size=3
)


@settings(max_examples=14, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(words=words_strategy, seed=st.integers(0, 10_000), seconds=st.floats(0.4, 2.0), bursts=st.integers(1, 5))
def test_alignment_properties(words, seed, seconds, bursts):
    transcript = Transcript(tuple(WordPhones("".join(w), tuple(PhoneToken(s) for s in w)) for w in words))
    audio = _audio(seed, seconds, bursts)
    result = ALIGNER.align(audio, SR, transcript)
    phones, wtier = result.phones, result.words
    # labels repeat the transcript exactly, in order
    assert phones.labels == transcript.symbols
    assert wtier.labels == [w.text for w in transcript.words]
    duration = len(audio) / SR
    assert abs(result.duration - duration) < 1e-6
    prev_end = 0.0
    for iv in phones:
        assert 0.0 <= iv.start < iv.end <= duration + 1e-9  # inside the audio, positive duration
        assert iv.start >= prev_end - 1e-9  # ordered, no overlap
        prev_end = iv.end
        assert 0.0 <= iv.attrs["confidence"] <= 1.0
    result.check_nesting()  # every word holds its phones, no phone straddles a word edge
    k = 0
    for word, w in zip(wtier, transcript.words):
        inside = phones.intervals[k : k + len(w.phones)]
        assert inside[0].start == word.start and inside[-1].end == word.end
        k += len(w.phones)
    assert 0.0 <= result.meta["confidence"] <= 1.0
    assert isinstance(result.meta["mismatch"], bool)
