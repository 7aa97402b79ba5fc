"""Recovery of exact espeak-ng phone times on clean synthetic speech, and the mismatch flag.

Languages here (sw, cs, ro) are not among the prior's (alignment.builtin.synthetic.PRIOR_LANGS).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pytest

from visemes.alignment.builtin import AlignerConfig, BuiltinAligner
from visemes.alignment.builtin.synthetic import Condition, make_item
from visemes.core.timeline import PhoneToken, Transcript, WordPhones

pytest.importorskip("espeakng_loader")

TEXTS = (
    ("sw", "mbwa analala chini ya meza"), ("sw", "kesho tutaenda sokoni asubuhi"),
    ("cs", "pes spí pod stolem"), ("cs", "zítra pojedeme vlakem do města"),
    ("ro", "câinele doarme sub masă"), ("ro", "mâine mergem la piață devreme"),
)


@lru_cache(maxsize=1)
def _items():
    return tuple(make_item(text, lang, Condition(), key=f"{lang}{i}", seed=i) for i, (lang, text) in enumerate(TEXTS))


def _transcript(alignment) -> Transcript:
    words = []
    for w in alignment.words:
        words.append(WordPhones(w.label, tuple(PhoneToken(p.label) for p in alignment.phones_of(w))))
    return Transcript(tuple(words))


def _boundaries(alignment) -> np.ndarray:
    ph = alignment.phones.intervals
    return np.array([p.start for p in ph] + [ph[-1].end])


@lru_cache(maxsize=1)
def _aligned():
    aligner = BuiltinAligner(AlignerConfig(convention="espeak"))
    prepared = [aligner.prepare(x.audio, x.sample_rate, _transcript(x.alignment)) for x in _items()]
    params = aligner.adapt(prepared)
    return aligner, params, tuple(aligner.decode_many(prepared, params))


def test_recovers_espeak_phone_times_within_20ms():
    _, _, results = _aligned()
    errors = np.concatenate([_boundaries(r) - _boundaries(x.alignment) for r, x in zip(results, _items())])
    within = float(np.mean(np.abs(errors) <= 0.020))
    assert within >= 0.90, f"only {within:.1%} of boundaries within 20 ms"
    assert float(np.median(np.abs(errors))) <= 0.010
    for r, x in zip(results, _items()):
        assert r.phones.labels == x.alignment.phones.labels
        assert not r.meta["mismatch"]


def test_single_file_alignment_uses_the_builtin_prior():
    x = _items()[0]
    result = BuiltinAligner(AlignerConfig(convention="espeak")).align(x.audio, x.sample_rate, _transcript(x.alignment))
    errors = _boundaries(result) - _boundaries(x.alignment)
    assert float(np.mean(np.abs(errors) <= 0.020)) >= 0.8
    assert 0.5 < result.meta["confidence"] <= 1.0


def test_mismatch_flag_fires_on_swapped_transcripts_and_rarely_on_matched():
    aligner = BuiltinAligner(AlignerConfig(convention="espeak"))
    items = _items()
    matched = [aligner.align(x.audio, x.sample_rate, _transcript(x.alignment)).meta["mismatch"] for x in items]
    swapped = []
    for i, x in enumerate(items):
        other = items[(i + 3) % len(items)]  # another sentence, mostly another language
        swapped.append(aligner.align(x.audio, x.sample_rate, _transcript(other.alignment)).meta["mismatch"])
    assert np.mean(swapped) >= 0.8, swapped
    assert np.mean(matched) <= 0.2, matched
