"""Audio-only recognition with the class network: the network file round-trips, its numpy forward pass
matches a plain per-frame reference, the place-aware units say p from t from k, and recognising
synthetic speech (a language the network was not trained on) gets the mouth's consonant places and
silence right well above chance."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pytest
from visemes.alignment.builtin.classnet import ClassNet, load_classnet, parse_classnet, save_classnet
from visemes.alignment.builtin.freeloop import SILENCE_UNIT
from visemes.alignment.builtin.hmm import CLOSURE, SIL
from visemes.alignment.builtin.make_classnet import TRAIN_LANGS, merge_rare, representatives
from visemes.alignment.builtin.recognise import recognise
from visemes.alignment.builtin.unitloop import build_unit_loop, unit_class, unit_of
from visemes.lang_packs import fallback_phone


def _random_net(rng, keys=("u:nasal.PP|1", "u:nasal.nn|1", CLOSURE, SIL), context=(-2, 0, 3)) -> ClassNet:
    d, h = 4, 5
    layers = ((rng.standard_normal((d * len(context), h)).astype(np.float32), rng.standard_normal(h).astype(np.float32)),
              (rng.standard_normal((h, len(keys))).astype(np.float32), rng.standard_normal(len(keys)).astype(np.float32)))
    return ClassNet(tuple(keys), rng.standard_normal(d), rng.uniform(0.5, 2, d), layers,
                    np.log(np.full(len(keys), 1 / len(keys))), context, {"nasal.PP": "m", "nasal.nn": "n"})


def test_forward_pass_matches_a_per_frame_reference():
    rng = np.random.default_rng(0)
    net = _random_net(rng)
    feats = rng.standard_normal((9, 4)).astype(np.float32)
    got = net.log_posteriors(feats)
    for t in range(len(feats)):
        # the window clamps at the edges (edge padding), frame by frame
        x = np.concatenate([(feats[min(max(t + o, 0), len(feats) - 1)] - net.mean) / net.std for o in net.context])
        h = np.maximum(x @ net.layers[0][0] + net.layers[0][1], 0.0)
        z = h @ net.layers[1][0] + net.layers[1][1]
        ref = z - np.log(np.exp(z - z.max()).sum()) - z.max()
        np.testing.assert_allclose(got[t], ref, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(np.exp(got).sum(axis=1), 1.0, rtol=1e-5)


def test_network_file_round_trips(tmp_path):
    net = _random_net(np.random.default_rng(1))
    save_classnet(net, tmp_path / "n.safetensors", source="test")
    back = parse_classnet((tmp_path / "n.safetensors").read_bytes())
    assert back.keys == net.keys and back.context == net.context and dict(back.representatives) == {"nasal.PP": "m", "nasal.nn": "n"}
    assert back.units == ("nasal.PP", "nasal.nn")
    feats = np.random.default_rng(2).standard_normal((6, 4)).astype(np.float32)
    # weights are stored as float16: outputs agree to float16 precision
    np.testing.assert_allclose(back.log_posteriors(feats), net.log_posteriors(feats), atol=0.05)


def test_units_split_classes_by_place():
    assert unit_of("p") == "stop_voiceless.PP" and unit_of("t") == "stop_voiceless.DD" and unit_of("k") == "stop_voiceless.kk"
    assert unit_of("m") == "nasal.PP" and unit_of("n") == "nasal.nn"
    for s in ("a", "i", "f", "s", "ʃ", "l", "b", "g"):
        assert unit_of(s).endswith("." + fallback_phone(s).viseme) and unit_class(unit_of(s)) != "other"


def test_unit_loop_keys_follow_the_class_loop():
    net_loop, gauss_loop = build_unit_loop(("vowel_low.aa", "stop_voiceless.PP"))
    assert net_loop.units == gauss_loop.units == (SILENCE_UNIT, "vowel_low.aa", "stop_voiceless.PP")
    np.testing.assert_array_equal(net_loop.first, gauss_loop.first)
    stop = net_loop.unit_of_state == 2
    keys = [net_loop.keys[i][0] for i in np.nonzero(stop)[0]]
    assert keys[0] == CLOSURE and keys[-1] == "u:stop_voiceless.PP|2"  # a stop opens with its closure
    assert {gauss_loop.keys[i][0] for i in np.nonzero(stop)[0]} == {CLOSURE, "c:stop_voiceless|1", "c:stop_voiceless|2"}


def test_rare_units_merge_into_their_class_and_representatives_are_the_commonest_phone():
    labels = [["u:nasal.nn|1"] * 5 + ["u:nasal.kk|1"] * 2 + ["sil", None]]
    merged = merge_rare(labels, min_frames=3)
    assert merged == [["u:nasal.nn|1"] * 7 + ["sil", None]]
    assert representatives({"nasal.nn": {"n": 5, "ɲ": 2}}, ["nasal.nn"]) == {"nasal.nn": "n"}


def test_training_languages_exclude_the_benchmark_languages():
    bench = {"ar", "bn", "cs", "sk", "el", "eu", "ml", "haw", "hak", "ig", "kea", "lad", "tzm"}
    assert not bench & set(TRAIN_LANGS)


@lru_cache(maxsize=1)
def _item():
    pytest.importorskip("espeakng_loader")
    from visemes.alignment.builtin.synthetic import Condition, make_item

    # Czech: a benchmark language, not one the network was trained on
    return make_item("mama pije kávu a topí", "cs", Condition("+f2", 170, 55, 30.0), key="cs1", seed=3)


def _frames(tier, duration, key, step=0.01):
    centres = (np.arange(int(duration / step)) + 0.5) * step
    out = np.array(["sil"] * len(centres), dtype=object)
    for iv in tier:
        out[(centres >= iv.start) & (centres < iv.end)] = key(iv)
    return out


def test_recognise_with_the_network_gets_place_and_silence():
    if load_classnet() is None:
        pytest.skip("no shipped class network")
    item = _item()
    al = recognise(item.audio, item.sample_rate)
    assert al.meta["aligner"] == "builtin-unitloop" and al.meta["timing_source"] == "audio-only"
    assert all(0.0 <= p.attrs["confidence"] <= 1.0 for p in al.phones)
    vis = lambda iv: fallback_phone(iv.label).viseme  # noqa: E731
    gold = _frames(item.alignment.phones, al.duration, vis)
    pred = _frames(al.phones, al.duration, vis)
    speech = gold != "sil"
    assert ((pred != "sil") == speech).mean() > 0.85
    # viseme per speech frame (15 classes): far above the commonest viseme's share
    majority = max(np.mean(gold[speech] == v) for v in set(gold[speech]))
    assert (pred == gold)[speech].mean() > majority + 0.15
    # the lips: p/b/m frames (PP) mostly found as PP
    lips = gold == "PP"
    assert lips.any() and (pred[lips] == "PP").mean() > 0.4


def test_gaussian_loop_stays_available():
    item = _item()
    al = recognise(item.audio, item.sample_rate, net=None)
    assert al.meta["aligner"] == "builtin-freeloop"
    assert {p.attrs["class"] for p in al.phones} <= {unit_class(p.attrs.get("unit", p.attrs["class"])) for p in al.phones}
