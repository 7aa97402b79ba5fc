"""Inference: output ranges, padding invariance, checkpoints, AOT compilation, jax.export round trip,
streaming vs offline, windowed long inputs."""

from __future__ import annotations

import json

import numpy as np
import pytest

from visemes.mouth.arkit import ARKIT_MOUTH
from visemes.core.articulation import ARTICULATION_PARAMS
from visemes.core.errors import ModelError


def test_predict_gives_bounded_curves(tiny_model, vocab, make_alignment):
    anim = tiny_model.predict(make_alignment(vocab, 3.0), fps=30.0)
    assert anim.n_frames == 91 and anim.fps == 30.0
    assert anim.articulation.channels == ARTICULATION_PARAMS and anim.blendshapes.channels == ARKIT_MOUTH
    for curves in (anim.articulation, anim.blendshapes):
        assert curves.values.min() >= 0.0 and curves.values.max() <= 1.0
    np.testing.assert_allclose(anim.visemes.values.sum(axis=1), 1.0, atol=1e-5)
    assert anim.source == f"model:{tiny_model.fingerprint}"


def test_other_viseme_sets_by_mapping(tiny_model, vocab, make_alignment):
    from visemes.mouth.visemesets import from_oculus
    from visemes.core.vocabulary import classes

    al = make_alignment(vocab, 2.0, seed=11)
    oculus = tiny_model.predict(al).visemes
    rhubarb = tiny_model.predict(al, viseme_set="rhubarb").visemes
    assert rhubarb.channels == classes("rhubarb")
    np.testing.assert_allclose(rhubarb.values.sum(axis=1), 1.0, atol=1e-5)
    pp = rhubarb.channels.index(from_oculus("PP", "rhubarb"))
    mass = sum(oculus.channel(c) for c in oculus.channels if from_oculus(c, "rhubarb") == rhubarb.channels[pp])
    np.testing.assert_allclose(rhubarb.values[:, pp], mass, atol=1e-5)
    with pytest.raises(ModelError, match="viseme set"):
        tiny_model.predict(al, viseme_set="nope")


def test_padding_does_not_change_outputs(tiny_model, vocab, make_alignment):
    u = tiny_model.encode(make_alignment(vocab, 3.0, seed=1), 30.0)
    short = tiny_model.run([u])
    padded = tiny_model.run([u, u], n_frames=256)  # other bucket, batch of two
    n = u.n_frames
    np.testing.assert_allclose(padded["articulation"][0, :n], short["articulation"][0, :n], atol=2e-5)
    np.testing.assert_allclose(padded["articulation"][1, :n], short["articulation"][0, :n], atol=2e-5)


def test_save_load_round_trip_and_damage(tiny_model, vocab, tmp_path, make_alignment):
    from visemes.models.api import VisemeModel

    path = tiny_model.save(tmp_path / "m.safetensors")
    meta = json.loads(path.with_suffix(".json").read_text("utf-8"))
    assert meta["format_version"] == 1 and meta["fingerprint"] == tiny_model.fingerprint
    again = VisemeModel.load(path)
    assert again.fingerprint == tiny_model.fingerprint and again.cfg == tiny_model.cfg
    al = make_alignment(vocab, 2.0, seed=2)
    np.testing.assert_array_equal(again.predict(al).articulation.values, tiny_model.predict(al).articulation.values)
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(ModelError, match="truncated|safetensors"):
        VisemeModel.load(path)
    with pytest.raises(ModelError, match="missing"):
        VisemeModel.load(tmp_path / "nothing.safetensors")


def test_aot_compiled_bucket_matches_jit(tiny_model, vocab, make_alignment):
    u = tiny_model.encode(make_alignment(vocab, 3.0, seed=3), 30.0)
    before = tiny_model.run([u])
    compiled = tiny_model.compile(1, 128, 128)
    assert compiled.cost_analysis() is not None
    after = tiny_model.run([u])  # now served by the AOT executable
    np.testing.assert_allclose(after["articulation"], before["articulation"], atol=1e-6)


def test_jax_export_round_trip(tiny_model, vocab, tmp_path, make_alignment):
    from visemes.models.export import deserialize, export_inference, inference_function, save_export, serialize
    from visemes.models.inputs import collate

    exported = export_inference(tiny_model, 1, 128, 128)
    blob = serialize(exported)
    assert isinstance(blob, bytes) and len(blob) > 1000
    restored = deserialize(blob)
    _, params = inference_function(tiny_model)
    u = tiny_model.encode(make_alignment(vocab, 3.0, seed=4), 30.0)
    out = restored.call(params, collate([u], 128, 128))
    ref = tiny_model.run([u], n_frames=128, n_phones=128)
    np.testing.assert_allclose(np.asarray(out["articulation"]), ref["articulation"], atol=1e-5)
    np.testing.assert_allclose(np.asarray(out["visemes_oculus"]), ref["visemes"]["oculus"], atol=1e-4)
    path = save_export(tiny_model, tmp_path / "f.stablehlo", 1, 128, 128)
    assert deserialize(path.read_bytes()).in_avals == restored.in_avals
    with pytest.raises(ModelError):
        deserialize(b"not an export")


def test_streaming_matches_offline(tiny_model, vocab, make_alignment):
    from visemes.models.streaming import StreamingPredictor, predict_streaming

    al = make_alignment(vocab, 4.0, seed=5)
    offline = tiny_model.predict(al, fps=30.0)
    # knowledge advances frame by frame and every ready frame is emitted at once (the strictest case)
    streamed = predict_streaming(tiny_model, al, fps=30.0, chunk_s=1 / 30, chunk_frames=1)
    assert streamed.n_frames == offline.n_frames
    # stated tolerance: 1e-4 (float rounding between window shapes), with lookahead = model lookahead (80 ms)
    np.testing.assert_allclose(streamed.articulation.values, offline.articulation.values, atol=1e-4)
    np.testing.assert_allclose(streamed.visemes.values, offline.visemes.values, atol=1e-4)
    stream = StreamingPredictor(tiny_model, 30.0)
    assert stream.lookahead_s == tiny_model.cfg.lookahead_s <= 0.08
    assert stream.push([], 0.05) is None  # nothing is ready before the lookahead has passed


def test_long_input_windows_are_exact(tiny_model, vocab, make_alignment):
    al = make_alignment(vocab, 7.0, seed=6)
    whole = tiny_model.predict(al, fps=30.0)          # 211 frames in one call (bucket 256)
    tiny_model.max_window_frames = 128                # force overlapping windows
    try:
        windowed = tiny_model.predict(al, fps=30.0)
    finally:
        from visemes.models.api import MAX_WINDOW_FRAMES

        tiny_model.max_window_frames = MAX_WINDOW_FRAMES
    np.testing.assert_allclose(windowed.articulation.values, whole.articulation.values, atol=1e-4)


def test_rejects_frame_rates_beyond_the_attention_window(tiny_model, vocab, make_alignment):
    from visemes.core.errors import InputError

    with pytest.raises(InputError, match="fps"):
        tiny_model.predict(make_alignment(vocab, 1.0), fps=120.0)
