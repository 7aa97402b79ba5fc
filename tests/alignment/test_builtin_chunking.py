"""Long audio: decoded in bounded windows joined at pauses, with no loss of accuracy near the joins."""

from __future__ import annotations

import numpy as np
import pytest

import visemes.alignment.builtin.aligner as aligner_mod
import visemes.alignment.builtin.chunking as chunking
import visemes.alignment.builtin.decode as decode_mod
from visemes.alignment.builtin import AlignerConfig, BuiltinAligner
from visemes.alignment.builtin.synthetic import Condition, make_item
from visemes.core.timeline import PhoneToken, Transcript, WordPhones

pytest.importorskip("espeakng_loader")

TEXTS = (
    ("sw", "mbwa analala chini ya meza"), ("cs", "pes spí pod stolem"), ("ro", "câinele doarme sub masă"),
    ("sw", "kesho tutaenda sokoni asubuhi"), ("cs", "zítra pojedeme vlakem do města"),
    ("ro", "mâine mergem la piață devreme"), ("sw", "maji ya mto ni baridi sana"),
    ("cs", "voda v řece je velmi studená"),
)


def _long_item():
    audio, words, gold, offset = [], [], [], 0.0
    for i, (lang, text) in enumerate(TEXTS):
        x = make_item(text, lang, Condition(lead=0.2 + 0.05 * (i % 3), trail=0.2), seed=i)
        audio.append(x.audio)
        for w in x.alignment.words:
            ps = x.alignment.phones_of(w)
            words.append(WordPhones(w.label, tuple(PhoneToken(p.label) for p in ps)))
        gold += [p.start + offset for p in x.alignment.phones]
        offset += len(x.audio) / x.sample_rate
    gold.append(x.alignment.phones[-1].end + offset - len(x.audio) / x.sample_rate)
    return np.concatenate(audio), x.sample_rate, Transcript(tuple(words)), np.array(gold)


def test_long_audio_is_chunked_with_bounded_windows_and_accurate_joins(monkeypatch):
    audio, sr, transcript, gold = _long_item()
    # small windows so that this ~25 s file needs several of them
    monkeypatch.setattr(aligner_mod, "MAX_CHUNK_FRAMES", 1200)
    monkeypatch.setattr(chunking, "WINDOW", 1200)
    monkeypatch.setattr(chunking, "MIN_COMMIT", 300)
    monkeypatch.setattr(chunking, "MARGIN", 250)
    seen = []
    original = decode_mod.decode_paths

    def recording(feats, chains, em, table=None):
        seen.extend(len(f) for f in feats)
        return original(feats, chains, em, table)

    monkeypatch.setattr(decode_mod, "decode_paths", recording)
    result = BuiltinAligner(AlignerConfig(convention="espeak")).align(audio, sr, transcript)
    assert result.meta["chunks"] >= 3
    assert max(seen) <= 1200  # memory is bounded by the window, not by the file
    assert result.phones.labels == transcript.symbols
    result.check_nesting()
    pred = np.array([p.start for p in result.phones] + [result.phones[-1].end])
    err = np.abs(pred - gold)
    joins = np.array(result.meta["chunk_starts"][1:])
    near = np.min(np.abs(gold[:, None] - joins[None, :]), axis=1) < 1.0
    assert near.sum() >= 10
    acc_near, acc_far = np.mean(err[near] <= 0.02), np.mean(err[~near] <= 0.02)
    assert acc_near >= acc_far - 0.1, (acc_near, acc_far)
    assert np.mean(err <= 0.02) >= 0.85
