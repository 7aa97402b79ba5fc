"""The transcript-mismatch decision: relative to the corpus's own files, the rule recorded, suspect words."""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache

import numpy as np
import pytest

from visemes.alignment.builtin import AlignerConfig, BuiltinAligner
from visemes.alignment.builtin.confidence import (
    MIN_LOG_SPREAD,
    MIN_REFERENCE_FILES,
    MISMATCH_GAP,
    MISMATCH_Z,
    GapReference,
)
from visemes.alignment.builtin.synthetic import Condition, make_item


def test_reference_is_the_robust_centre_and_spread_of_log_gaps():
    rng = np.random.default_rng(0)
    gaps = np.exp(rng.normal(np.log(0.04), 0.3, 200))
    ref = GapReference.from_gaps(gaps)
    lg = np.log(gaps)
    # plain numpy: median and 1.4826 x median absolute deviation
    assert ref.log_median == pytest.approx(np.median(lg))
    assert ref.log_spread == pytest.approx(1.4826 * np.median(np.abs(lg - np.median(lg))))
    assert ref.log_spread == pytest.approx(0.3, rel=0.2)  # a normal's MAD x 1.4826 is its SD
    assert ref.threshold == pytest.approx(np.exp(np.median(lg) + MISMATCH_Z * ref.log_spread))
    assert ref.is_mismatch(ref.threshold * 1.01) and not ref.is_mismatch(ref.threshold * 0.99)
    assert ref.z(np.exp(ref.log_median)) == pytest.approx(0.0)


def test_reference_moves_with_the_corpus_and_ignores_a_few_wrong_files():
    rng = np.random.default_rng(1)
    single = np.exp(rng.normal(np.log(0.03), 0.3, 100))
    pooled = single * 2.0  # pooling many speakers roughly doubles every gap
    wrong = np.full(15, 0.5)  # 13% wrong transcripts with a large gap
    ref = GapReference.from_gaps(np.concatenate([pooled, wrong]))
    clean = GapReference.from_gaps(pooled)
    assert ref.threshold == pytest.approx(clean.threshold, rel=0.15)
    assert clean.threshold == pytest.approx(2.0 * GapReference.from_gaps(single).threshold)  # scale-free
    assert np.mean([ref.is_mismatch(g) for g in pooled]) < 0.1
    assert all(ref.is_mismatch(g) for g in wrong)


def test_small_or_uniform_corpora():
    assert GapReference.from_gaps([0.04] * (MIN_REFERENCE_FILES - 1)) is None
    flat = GapReference.from_gaps([0.04] * MIN_REFERENCE_FILES)
    assert flat.log_spread == MIN_LOG_SPREAD  # identical files: the floor, not a zero spread
    assert not flat.is_mismatch(0.04 * 1.1)


@lru_cache(maxsize=1)
def _one_file():
    pytest.importorskip("espeakng_loader")
    x = make_item("pes spí pod stolem", "cs", Condition(snr_db=25.0), seed=3)
    aligner = BuiltinAligner(AlignerConfig(convention="espeak"))
    prep = aligner.prepare(x.audio, x.sample_rate, x.transcript)
    return aligner, prep, aligner.adapt([prep])


def test_decision_uses_the_corpus_reference_when_there_is_one():
    aligner, prep, params = _one_file()
    alone = aligner.decode(prep, params)
    assert alone.meta["mismatch_rule"] == "single-file"
    gap = alone.meta["fit_gap"]
    # the same file judged against a corpus whose files fit far better, then far worse, than it does
    better = GapReference(float(np.log(gap)) - 3 * MISMATCH_Z * 0.2, 0.2, 50)
    worse = GapReference(float(np.log(gap)) + 1.0, 0.2, 50)
    flagged = aligner.decode(prep, replace(params, n_files=50, gap_reference=better))
    assert flagged.meta["mismatch"] and flagged.meta["mismatch_rule"] == "corpus"
    assert flagged.meta["gap_z"] == pytest.approx(better.z(gap), abs=1e-3)
    assert flagged.meta["mismatch_threshold"] == pytest.approx(better.threshold, rel=1e-3)
    # words are suspect exactly when their own gap exceeds the corpus threshold
    for w in flagged.words:
        assert w.attrs["suspect"] == (w.attrs["fit_gap"] > better.threshold)
    kept = aligner.decode(prep, replace(params, n_files=50, gap_reference=worse))
    assert not kept.meta["mismatch"]
    # a small corpus (no reference) keeps the fixed threshold
    small = aligner.decode(prep, replace(params, n_files=5))
    assert small.meta["mismatch_rule"] == "fixed"
    assert small.meta["mismatch"] == (gap > MISMATCH_GAP)


def test_adapt_records_the_reference_of_a_corpus():
    aligner, prep, _ = _one_file()
    params = aligner.adapt([prep] * MIN_REFERENCE_FILES, iterations=1)
    ref = params.gap_reference
    assert ref is not None and ref.n_files == MIN_REFERENCE_FILES
    out = aligner.decode(prep, params)
    # every copy is the same file: it sits at the corpus median (z ~ 0), not flagged
    assert abs(out.meta["gap_z"]) < 0.05 and not out.meta["mismatch"]
