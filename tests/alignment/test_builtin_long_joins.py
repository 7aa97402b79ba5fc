"""Long audio that stays right: free-end windows may not cram words, and QA notices when a join drifts.

The real-speech test reads a devdata recording (MFA's own test corpus, MIT; its word tier is MFA
output, used here as a reference to within a tenth of a second) and skips when devdata is absent.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

import visemes.alignment.builtin.chunking as chunking
from visemes.alignment.builtin import AlignerConfig, BuiltinAligner
from visemes.alignment.builtin.decode import GaussTable, decode_paths
from visemes.alignment.builtin.hmm import build_chain
from visemes.alignment.builtin.synthetic import Condition, make_item
from visemes.alignment.transcripts import from_text
from visemes.core.audio import load_audio
from visemes.core.textgrid import read_textgrid
from visemes.core.timeline import SILENCE_LABELS, Alignment, Interval, Tier
from visemes.pipeline.qa import assess

DEVDATA = Path(os.environ.get("VISEMES_DEVDATA", "/work/shared/devdata")) / "mfa_fixtures"


def test_entry_cost_is_a_constant_when_the_end_is_fixed():
    """The geometric-duration cost only changes which words a free end uses: with a fixed end every path
    enters every state once, so the best path is the same with and without it."""
    pytest.importorskip("espeakng_loader")
    x = make_item("put it on the table and leave it there", "en", Condition(snr_db=20.0), seed=1)
    aligner = BuiltinAligner(AlignerConfig(convention="espeak"))
    prep = aligner.prepare(x.audio, x.sample_rate, x.transcript)
    em = aligner.adapt([prep], iterations=1).emissions
    table = GaussTable.from_emissions(em)
    chain = build_chain(prep.transcript, states_per_phone=3, sil_penalty=2.0)
    cost = 3.0  # larger than any measured speaking-rate cost (0.8-1.4 nats on real English)
    costly = replace(chain, enter_pen=chain.enter_pen - np.where(chain.phone_of_state >= 0, cost, 0.0).astype(np.float32))
    (p0,), _, (s0,) = decode_paths([prep.feats], [chain], em, table)
    (p1,), _, (s1,) = decode_paths([prep.feats], [costly], em, table)
    np.testing.assert_array_equal(p0, p1)
    n_entered = int(np.sum((np.diff(p0) != 0) & (chain.phone_of_state[p0[1:]] >= 0)))
    assert s0 - s1 == pytest.approx(cost * n_entered, rel=1e-4)


def test_speaking_rate_cost_matches_its_definition():
    energy = np.concatenate([np.zeros(100), np.ones(600), np.zeros(100)])
    # 600 speech frames over 100 states: mean 6 frames per state, ln(6 - 1)
    assert chunking.state_entry_penalty(energy, 100) == pytest.approx(np.log(5.0))
    assert chunking.state_entry_penalty(energy, 1000) == 0.0  # faster than 2 frames per state: no cost


def _mfa_file(stem: str):
    wav, grid = DEVDATA / f"{stem}.wav", DEVDATA / f"{stem}.TextGrid"
    if not wav.exists() or not grid.exists():
        pytest.skip("devdata mfa_fixtures not here")
    audio, rate = load_audio(wav)
    words = [w for w in read_textgrid(grid).words if w.label.strip() and w.label not in SILENCE_LABELS]
    return audio, rate, words


@pytest.mark.parametrize("entry_cost", [True, False])
def test_real_long_file_stays_on_its_words_or_qa_says_so(monkeypatch, entry_cost):
    """A 25.7 s real recording (a speaker with a cold) aligned in 10 s windows. Without the entry cost the
    free ends crammed words into the first windows: every word started early, by 5.6 s at the median,
    and the last window held 0.06 of the file's speaking rate. With it: median 0.07 s; and QA must
    notice whenever the windows drift."""
    pytest.importorskip("espeakng_loader")
    audio, rate, gold = _mfa_file("cold_corpus")
    monkeypatch.setattr(chunking, "ENTRY_COST", entry_cost)
    transcript = from_text(" ".join(w.label for w in gold), "en")
    result = BuiltinAligner().align(audio, rate, transcript)
    assert result.meta["chunks"] >= 3
    err = np.abs(np.array([w.start for w in result.words]) - np.array([w.start for w in gold]))
    flags = assess(result, audio, rate, "aligned")["flags"]
    drifted = float(np.median(err)) > 0.5
    assert ("uneven_speaking_rate" in flags) == drifted == bool(result.meta["uneven_rate"])
    if entry_cost:
        assert float(np.median(err)) < 0.15
        assert float(np.mean(err <= 0.5)) >= 0.7
        assert "transcript_mismatch" not in flags


def test_qa_names_an_uneven_rate_and_a_mismatch():
    words = Tier("words", (Interval(0.1, 0.5, "a"),))
    phones = Tier("phones", (Interval(0.1, 0.5, "a", {"confidence": 0.9}),))
    base = Alignment((words, phones), 1.0, {"aligner": "builtin"})
    assert assess(base, None, None, "aligned")["flags"] == []
    both = base.with_meta(uneven_rate=True, mismatch=True)
    qa = assess(both, None, None, "aligned")
    assert set(qa["flags"]) == {"uneven_speaking_rate", "transcript_mismatch"}
    assert any("window join" in note for note in qa["notes"])
