"""`visemes train` and `visemes finetune` on tiny data (the tiny preset shares compiled steps)."""

from __future__ import annotations

import json

from visemes.cli.main import main


def test_train_and_finetune_commands(tmp_path, teacher_data, dialect_data):
    from visemes.models.data import save_examples
    from visemes.models.lora import Adapter

    data = save_examples(tmp_path / "d.npz", teacher_data[:6])
    run = tmp_path / "run"
    code = main(["train", str(data), "--out", str(run), "--preset", "tiny", "--steps", "3", "--batch-size", "8", "--crop-frames", "128",
                 "--eval-share", "0.2"])
    assert code == 0
    model_path = run / "model.safetensors"
    assert model_path.is_file()
    assert len((run / "metrics.jsonl").read_text("utf-8").splitlines()) >= 2
    dialect = save_examples(tmp_path / "dialect.npz", dialect_data[:6])
    out = tmp_path / "ar-EG.safetensors"
    code = main(["finetune", "--adapter", "ar-EG", str(dialect), "--base", str(model_path), "--out", str(out),
                 "--steps", "2", "--batch-size", "8", "--crop-frames", "128", "--rank", "4"])
    assert code == 0
    adapter = Adapter.load(out)
    meta = json.loads(out.with_suffix(".json").read_text("utf-8"))
    assert adapter.name == "ar-EG" and adapter.lora.rank == 4 and meta["base_fingerprint"] == adapter.base_fingerprint
    assert meta["format_version"] == 1
    from visemes import models

    assert models.load(model_path).fingerprint == adapter.base_fingerprint
    # missing data is a one-line error with exit code 2, before any training
    assert main(["finetune", "--adapter", "x", str(tmp_path / "missing.npz"), "--base", str(model_path),
                 "--steps", "1"]) == 2
