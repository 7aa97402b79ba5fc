"""Training: the loss falls, metrics are logged as JSONL, checkpoints resume exactly, the model learns
the teacher."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest


def test_training_reduces_loss_and_logs_metrics(trained):
    model, records, run = trained
    train = [r for r in records if r["split"] == "train"]
    assert train[-1]["loss"] < 0.6 * train[0]["loss"]
    lines = [json.loads(x) for x in (run / "metrics.jsonl").read_text("utf-8").splitlines()]
    assert lines == records
    evals = [r for r in records if r["split"] == "eval"]
    assert evals and set(evals[-1]["per_lang_mae"]) <= {"en-us", "es"} and len(evals[-1]["corr"]) == 9
    assert (run / "checkpoint.safetensors").is_file() and (run / "checkpoint.json").is_file()


def test_trained_model_follows_the_teacher(tiny_model, teacher_data):
    """Held-out utterances: even the briefly trained tiny model tracks the teacher's curves (mean
    correlation over parameters) and beats the best constant pose."""
    held = teacher_data[-4:]
    pred = np.concatenate([tiny_model.predict_inputs(e.inputs)["articulation"] for e in held])
    tgt = np.concatenate([e.articulation for e in held])
    corr = [np.corrcoef(pred[:, k], tgt[:, k])[0, 1] for k in range(9) if tgt[:, k].std() > 1e-6]
    assert np.mean(corr) > 0.3
    assert np.abs(pred - tgt).mean() < 0.9 * np.abs(tgt - tgt.mean(axis=0)).mean()


def test_resume_continues_exactly(tiny_model, tiny_cfg, vocab, teacher_data, train_cfg, tmp_path):

    from visemes.models import checkpoint
    from visemes.models.network import abstract_model
    from visemes.models.train import fit

    cfg = dataclasses.replace(train_cfg, steps=6, warmup=2, eval_every=1000, checkpoint_every=1000)

    def fresh():  # the same starting weights each time (no re-initialisation to compile)
        module = abstract_model(tiny_cfg)
        checkpoint.assign(module, tiny_model.base_arrays)
        return module

    straight = fresh()
    fit(straight, teacher_data, [], cfg, progress=False)
    interrupted = fresh()
    fit(interrupted, teacher_data, [], cfg, out_dir=tmp_path, progress=False, stop_after=3)
    assert json.loads((tmp_path / "checkpoint.json").read_text("utf-8"))["step"] == 3
    resumed = fresh()  # a new process would start from fresh weights and load the checkpoint
    fit(resumed, teacher_data, [], cfg, out_dir=tmp_path, resume=True, progress=False)
    a, b = checkpoint.flat_params(straight), checkpoint.flat_params(resumed)
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_allclose(a[k], b[k], atol=1e-5, err_msg=k)


def test_training_data_cache_round_trip(teacher_data, tmp_path):
    from visemes.models.data import load_examples, save_examples

    path = save_examples(tmp_path / "d.npz", teacher_data[:3])
    with np.load(path, allow_pickle=False) as z:  # no object arrays anywhere
        assert all(z[k].dtype != object for k in z.files)
    again = load_examples(path)
    assert [e.lang for e in again] == [e.lang for e in teacher_data[:3]]
    np.testing.assert_array_equal(again[1].articulation, teacher_data[1].articulation)
    np.testing.assert_array_equal(again[2].inputs.frame_pos, teacher_data[2].inputs.frame_pos)
    from visemes.core.errors import OutputExistsError

    with pytest.raises(OutputExistsError):
        save_examples(path, teacher_data[:1])
