"""Config, vocabulary and input encoding: pure numpy/JSON, no compilation."""

from __future__ import annotations

import json

import numpy as np
import pytest

from visemes.core.errors import InputError, ModelError
from visemes.core.timeline import Alignment, Interval, Tier


def test_presets_and_json_round_trip():
    from visemes.models.config import LoRAConfig, ModelConfig

    base, tiny = ModelConfig.base(), ModelConfig.tiny()
    assert base.d_model > tiny.d_model and base.n_layers >= tiny.n_layers
    assert base.viseme_classes("oculus")[0] == "sil" and len(base.viseme_classes("oculus")) == 15
    again = ModelConfig.from_dict(json.loads(json.dumps(base.to_dict())))
    assert again == base
    with pytest.raises(ModelError, match="unknown keys"):
        ModelConfig.from_dict({**base.to_dict(), "bogus": 1})
    with pytest.raises(ModelError):
        ModelConfig.preset("huge")
    with pytest.raises(ModelError, match="heads"):
        ModelConfig(d_model=30, n_heads=4)
    lcfg = LoRAConfig(rank=2, alpha=6.0)
    assert lcfg.scale == 3.0 and LoRAConfig.from_dict(lcfg.to_dict()) == lcfg


def test_vocab_ids_and_unknowns(vocab):
    from visemes.models.vocab import stress_id, tone_id

    assert vocab.phone_id("<pad>") == 0 and vocab.phone_id("ʘ") > 1
    assert vocab.phone_id("no-such-phone") == 1  # UNK
    assert vocab.lang_ids("xx-YY") == (0, 0)
    assert tone_id("3") == 4 and tone_id(None) == 0 and tone_id("˥˩") == 11
    assert stress_id("primary") == 1 and stress_id("secondary") == 2 and stress_id(None) == 0


def test_vocab_is_frozen_json(vocab, tmp_path):
    from visemes.models.vocab import Vocab

    path = vocab.save(tmp_path / "v.json")
    assert Vocab.load(path) == vocab
    doc = json.loads(path.read_text("utf-8"))
    doc["format_version"] = 99
    (tmp_path / "bad.json").write_text(json.dumps(doc), "utf-8")
    with pytest.raises(ModelError, match="format_version"):
        Vocab.load(tmp_path / "bad.json")


def test_unseen_phone_gets_features_of_similar_phones():
    from visemes.models.features import phone_features

    p, b, a = phone_features("p"), phone_features("b"), phone_features("a")
    assert np.abs(p - b).sum() < np.abs(p - a).sum()  # p is closer to b than to a
    assert np.abs(phone_features("pʼ")).sum() > 0  # an ejective (rare) still gets a feature vector


def test_frame_positions_golden():
    from visemes.models.inputs import frame_positions

    starts, ends = np.array([0.1, 0.2, 0.5]), np.array([0.2, 0.3, 0.6])
    times = np.array([0.0, 0.1, 0.15, 0.2, 0.4, 0.55])
    phone, pos = frame_positions(starts, ends, times)
    assert phone.tolist() == [-1, 0, 0, 1, -1, 2]
    np.testing.assert_allclose(pos[:, 0], [0, 1, 1, 1, 0, 1])
    np.testing.assert_allclose(pos[:, 1], [0, 0, 0.5, 0, 0, 0.5], atol=1e-6)
    np.testing.assert_allclose(pos[2, 2:5], [0.1, 0.05, 0.05], atol=1e-6)
    # gap before: none before phone 0 (clipped to 1 s), 0 s before phone 1, 0.2 s before phone 2
    np.testing.assert_allclose(pos[[1, 3, 5], 5], [1.0, 0.0, 0.2], atol=1e-6)
    np.testing.assert_allclose(pos[4, 5], 0.1, atol=1e-6)  # in the gap, 0.1 s after phone 1 ended


def test_encode_collate_and_window(vocab):
    from visemes.models.inputs import FRAME_BUCKETS, collate, encode, window

    al = Alignment((Tier("phones", (Interval(0.1, 0.2, "p"), Interval(0.2, 0.35, "a", {"tone": "3"}))),),
                   1.0, {"lang": "es"})
    u = encode(al, vocab, 30.0)
    assert u.n_frames == 31 and u.n_phones == 2 and u.tones.tolist() == [0, 4]
    assert u.lang == vocab.lang_ids("es")[0]
    b = collate([u, window(u, 3, 9)])
    assert b["frame_phone"].shape == (2, FRAME_BUCKETS[0])
    assert b["frame_mask"].sum(axis=1).tolist() == [31, 6]
    w = window(u, 3, 9)
    assert w.n_phones == 2 and w.frame_phone.tolist() == [0, 0, 0, 1, 1, 1]
    np.testing.assert_allclose(w.frame_time, u.frame_time[3:9])
    with pytest.raises(InputError, match="phones"):
        encode(Alignment((), 1.0), vocab, 30.0)
    with pytest.raises(InputError, match="Audio features"):
        encode(al, vocab, 30.0, audio_features=np.zeros((5, 2)))


def test_audio_features_track_loudness_and_pitch():
    from visemes.models.audio_features import audio_features

    sr = 16000
    t = np.arange(sr) / sr
    audio = np.where(t < 0.5, 0.0, 0.5 * np.sin(2 * np.pi * 200 * t)).astype(np.float32)
    feats = audio_features(audio, sr, np.array([0.25, 0.75]))
    assert feats[0, 0] < 0.1 < 0.5 < feats[1, 0]
    assert feats[0, 1] == 0.0 and abs(2 ** feats[1, 1] * 150 - 200) < 8  # 200 Hz found


def test_audio_features_in_blocks_equal_all_frames_at_once(monkeypatch):
    # hour-long files are processed in blocks of frames to bound memory; blocks must not change values
    import visemes.models.audio_features as af

    rng = np.random.default_rng(1)
    t = np.arange(0, 3.0, 1 / 30)
    sweep = np.sin(2 * np.pi * np.cumsum(np.linspace(100, 300, 48000)) / 16000).astype(np.float32)
    audio = sweep * 0.5 + (rng.standard_normal(48000) * 0.01).astype(np.float32)
    whole = af.audio_features(audio, 16000, t)
    monkeypatch.setattr(af, "FEATURE_BLOCK", 7)
    assert np.array_equal(af.audio_features(audio, 16000, t), whole)
    assert (whole[:, 1] != 0).mean() > 0.5  # the sweep is voiced: a pitch was found in most frames
