"""The speed machinery keeps results: shape merging, reusable decode plans, the opt-in compile cache,
and the noise floor for band-limited audio (no false mismatch flag at 8 kHz)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import soxr

from visemes.alignment.builtin import BuiltinAligner
from visemes.alignment.builtin import features as F
from visemes.alignment.builtin.decode import MERGE_CELLS, DecodePlan, GaussTable, _merge_small_groups
from visemes.alignment.builtin.hmm import Stats, build_chain, map_emissions
from visemes.alignment.builtin.priors import load_prior
from visemes.core.timeline import Transcript


def test_small_groups_ride_in_a_larger_shape_only_when_cheap():
    shapes = [(512, 128)] * 3 + [(256, 64)] * 2 + [(256, 128)] * 40
    groups = _merge_small_groups(shapes)
    assert sorted(i for idx in groups.values() for i in idx) == list(range(len(shapes)))
    # two tiny utterances move into a compiled larger shape: padding them is cheaper than a compile
    assert (256, 64) not in groups and set(groups[(256, 128)]) >= {3, 4}
    # forty utterances padded to twice their frames would cost more than a compile: kept apart
    assert 40 * (512 * 128 - 256 * 128) > MERGE_CELLS
    assert set(range(5, 45)) <= set(groups[(256, 128)])
    assert groups[(512, 128)] == [0, 1, 2]


def test_a_plan_decodes_like_one_utterance_at_a_time():
    rng = np.random.default_rng(3)
    transcripts = [Transcript.from_ipa(t) for t in ("p a | t a", "m i n a", "s u | k o | l e")]
    feats = [rng.normal(size=(n, F.N_DIMS)).astype(np.float32) for n in (60, 90, 200)]
    chains = [build_chain(t, sil_penalty=2.0) for t in transcripts]
    em = map_emissions(Stats(F.N_DIMS), load_prior())
    table = GaussTable.from_emissions(em)
    plan = DecodePlan(feats, chains)
    together = plan.run(em, table)
    again = plan.run(em, table)  # a plan is reusable (every EM pass)
    for k in range(3):
        alone = DecodePlan([feats[k]], [chains[k]]).run(em, table)
        np.testing.assert_array_equal(together[0][k], alone[0][0])
        np.testing.assert_array_equal(together[1][k], alone[1][0])
        np.testing.assert_array_equal(together[0][k], again[0][k])
        assert abs(together[2][k] - alone[2][0]) < 1e-3 * abs(alone[2][0])
        path = together[0][k]
        assert len(path) == len(feats[k]) and set(np.unique(np.diff(path))) <= {0, 1, 2}
        # the winning row of each frame is one of its state's slots
        rows = together[1][k]
        slots = {s: {table.index[em.resolve(key)] for key in chains[k].keys[s]} for s in range(chains[k].n_states)}
        assert all(int(r) in slots[int(s)] for s, r in zip(path, rows))


def test_compile_cache_is_opt_in_and_fills_the_directory(tmp_path):
    code = textwrap.dedent(f"""
        import numpy as np, jax
        from visemes.alignment.builtin import enable_compile_cache
        from visemes.alignment.builtin.viterbi import run_viterbi
        assert not jax.config.jax_compilation_cache_dir  # importing enabled nothing
        d = enable_compile_cache({str(tmp_path / "cache")!r})
        assert enable_compile_cache({str(tmp_path / "other")!r}) == d  # the first choice stands
        ll = np.zeros((1, 5, 3), np.float32)
        m = np.ones((1, 3), bool)
        run_viterbi(ll, m, m, m, np.zeros((1, 3), np.float32), np.array([5], np.int32))
        print(d)
    """)
    # a CLI call earlier in this session may have put the CLI's cache settings into the environment
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JAX_COMPILATION", "JAX_PERSISTENT"))}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert out.returncode == 0, out.stderr
    entries = list((tmp_path / "cache").iterdir())
    assert any("viterbi" in e.name for e in entries)
    assert not (tmp_path / "other").exists()


def _noise(sr: int, seconds: float = 1.0) -> np.ndarray:
    return np.random.default_rng(0).normal(size=int(sr * seconds)).astype(np.float32) * 0.1


def _band_power(x: np.ndarray, lo: float, hi: float) -> float:
    spec = np.abs(np.fft.rfft(x)) ** 2
    f = np.fft.rfftfreq(len(x), 1 / F.SAMPLE_RATE)
    return float(spec[(f >= lo) & (f < hi)].mean())


def test_wideband_audio_is_untouched_and_telephone_band_gets_a_quiet_floor():
    wide = _noise(F.SAMPLE_RATE)
    np.testing.assert_array_equal(F.fill_empty_band(wide), wide)
    narrow = F.resample(soxr.resample(wide, F.SAMPLE_RATE, 8000), 8000)
    filled = F.fill_empty_band(narrow)
    np.testing.assert_array_equal(filled, F.fill_empty_band(narrow))  # deterministic
    below = _band_power(narrow, 3000, 3750)
    assert _band_power(narrow, 5000, 7500) < 1e-4 * below  # empty before (up to this FFT's leakage)
    ratio_db = 10 * np.log10(_band_power(filled, 5000, 7500) / below)
    assert abs(ratio_db - F.FILL_DB) < 3.0
    assert _band_power(filled - narrow, 0, 3500) < 1e-3 * below  # the speech band is left alone


def test_correct_transcript_of_8khz_speech_is_not_flagged():
    pytest.importorskip("espeakng_loader")
    from visemes import lang_packs
    from visemes.speech.synthesis import speak

    text = "Hello world, this is a test."
    spoken = speak(text, "en-US")
    transcript = lang_packs.load("en-US").phonemize(text)
    audio8k = soxr.resample(spoken.audio, spoken.sample_rate, 8000)
    result = BuiltinAligner().align(audio8k, 8000, transcript)
    # 0.036 at 22 kHz, ~0.047 at 8 kHz: telephone-band speech sits closer to the 0.05 threshold
    assert not result.meta["mismatch"]
    assert result.phones.labels == transcript.symbols
