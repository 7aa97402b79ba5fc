"""Single-file adaptation: the prior's global affine transform (hmm.affine_prior) against plain
references, and the corpus-weight QA models its mismatch statistics come from."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from visemes.alignment.builtin import AlignerConfig, BuiltinAligner
from visemes.alignment.builtin.confidence import utterance_gap
from visemes.alignment.builtin.decode import GaussTable, decode_paths
from visemes.alignment.builtin.synthetic import Condition, make_item
from visemes.alignment.builtin.hmm import SIL, Prior, Stats, affine_prior, phone_key
from visemes.alignment.builtin.phones import broad_class

SYMBOLS = ("a", "i", "t", "s", "m", "l")
D = 4


def _prior(rng) -> Prior:
    keys = {f"c:{broad_class(s)}|{k}" for s in SYMBOLS for k in range(3)} | {SIL}
    means = {k: rng.normal(0, 1.5, D) for k in sorted(keys)}
    variances = {k: rng.uniform(0.3, 1.5, D) for k in sorted(keys)}
    return Prior(means, variances)


def _data(rng, prior, a, b, scale, frames=400):
    """Frames of every phone state drawn from the prior's class Gaussian moved by (a, b, scale)."""
    stats, mus, ivs, xs = Stats(D), [], [], []
    for s in SYMBOLS:
        for k in range(3):
            m, v = prior.get(f"c:{broad_class(s)}|{k}", D)
            x = a * m + b + rng.normal(0, 1, (frames, D)) * np.sqrt(v * scale)
            stats.add(phone_key(s, k), x)
            mus.append(np.broadcast_to(m, x.shape))
            ivs.append(np.broadcast_to(1 / v, x.shape))
            xs.append(x)
    return stats, np.concatenate(mus), np.concatenate(ivs), np.concatenate(xs)


def test_recovers_a_known_transform_like_weighted_least_squares():
    rng = np.random.default_rng(0)
    prior = _prior(rng)
    a, b, scale = np.array([0.8, 1.2, 1.0, 0.6]), np.array([0.5, -0.3, 0.0, 1.0]), np.array([2.0, 0.5, 1.0, 1.5])
    stats, mu, iv, x = _data(rng, prior, a, b, scale)
    out = affine_prior(stats, prior, tau=0.0)
    for d in range(D):
        # plain reference: weighted least squares of the frames on their class means, per dimension
        slope, icpt = np.polyfit(mu[:, d], x[:, d], 1, w=np.sqrt(iv[:, d]))
        key = "c:" + broad_class("a") + "|0"
        m0 = prior.means[key][d]
        assert abs(out.means[key][d] - (slope * m0 + icpt)) < 1e-6
        assert abs(slope - a[d]) < 0.05 and abs(icpt - b[d]) < 0.1
    key = "c:" + broad_class("s") + "|1"
    ratio = np.asarray(out.variances[key]) / np.asarray(prior.variances[key])
    np.testing.assert_allclose(ratio, scale, rtol=0.1)
    # silence keeps its own adaptation
    np.testing.assert_array_equal(out.means[SIL], prior.means[SIL])


def test_pseudo_data_pulls_towards_identity():
    rng = np.random.default_rng(1)
    prior = _prior(rng)
    stats, *_ = _data(rng, prior, np.full(D, 0.5), np.full(D, 1.0), np.ones(D), frames=5)
    key = "c:" + broad_class("t") + "|2"
    shift = [np.abs(np.asarray(affine_prior(stats, prior, tau).means[key]) - prior.means[key]).max()
             for tau in (0.0, 50.0, 1e6)]
    assert shift[0] > shift[1] > shift[2]
    assert shift[2] < 1e-3


def test_no_phone_data_leaves_the_prior_alone():
    prior = _prior(np.random.default_rng(2))
    stats = Stats(D)
    stats.add(SIL, np.zeros((10, D)))
    assert affine_prior(stats, prior, 50.0) is prior


def test_single_file_is_scored_with_the_corpus_weight_models_on_their_own_path():
    # a file adapted alone gets the stronger adaptation for its boundaries, but its fit gap (what the
    # single-file mismatch decision was calibrated on) comes from corpus-weight models and their own path
    pytest.importorskip("espeakng_loader")
    x = make_item("pes spí pod stolem", "cs", Condition(snr_db=25.0), seed=3)
    aligner = BuiltinAligner(AlignerConfig(convention="espeak"))
    prep = aligner.prepare(x.audio, x.sample_rate, x.transcript)
    params = aligner.adapt([prep])
    assert params.qa_emissions is not None
    assert aligner.adapt([prep, prep], iterations=1).qa_emissions is None
    out = aligner.decode(prep, params)
    chain = aligner.chain_for(prep)
    table = GaussTable.from_emissions(params.qa_emissions)
    paths, rows, _ = decode_paths([prep.feats], [chain], params.qa_emissions, table)
    assert out.meta["fit_gap"] == pytest.approx(utterance_gap(prep.feats, chain, paths[0], rows[0], table))
    plain = aligner.decode(prep, replace(params, qa_emissions=None))
    assert [p.start for p in plain.phones] == [p.start for p in out.phones]  # boundaries are the adapted ones
