"""``visemes train`` and ``visemes finetune``: thin layers over :mod:`visemes.models.train`.

DATA arguments are example caches (``.npz`` written by ``visemes train --teacher ... --save-data`` or the
base recipe) or Live Link Face captures (``take.csv`` with ``take.wav`` and ``take.txt`` beside it).
"""

from __future__ import annotations

from pathlib import Path

import click
import numpy as np

from visemes import models
from visemes.core.errors import InputError
from visemes.models.config import LoRAConfig, ModelConfig
from visemes.models.data import live_link_face_example, load_examples, save_examples
from visemes.models.teacher import teacher_examples
from visemes.models.vocab import Vocab


def _load_data(paths: tuple[str, ...], lang: str | None, vocab, cfg) -> list:
    examples = []
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise InputError(f"Training data {path} does not exist.")
        if path.suffix == ".npz":
            examples += load_examples(path)
        elif path.suffix == ".csv":
            wav, txt = path.with_suffix(".wav"), path.with_suffix(".txt")
            if not (wav.is_file() and txt.is_file()):
                raise InputError(f"A Live Link Face take needs {wav.name} and {txt.name} beside {path.name}.")
            if not lang:
                raise InputError("Give --lang for Live Link Face captures (the language of the transcript).")
            examples.append(live_link_face_example(path, wav, txt.read_text("utf-8").strip(), lang, vocab,
                                                   cfg.blendshapes, cfg.viseme_classes("oculus")))
        else:
            raise InputError(f"Unsupported training data {path.name}: give .npz example caches or Live Link Face .csv.")
    if not examples:
        raise InputError("No training examples found in the given data.")
    return examples


def _split(examples: list, eval_share: float, seed: int) -> tuple[list, list]:
    order = np.random.default_rng(seed).permutation(len(examples))
    n_eval = int(round(len(examples) * eval_share)) if len(examples) > 4 else 0
    return [examples[i] for i in order[n_eval:]], [examples[i] for i in order[:n_eval]]


@click.command()
@click.argument("data", nargs=-1)
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False), help="Run folder (checkpoints, metrics.jsonl, model).")
@click.option("--preset", type=click.Choice(["tiny", "base"]), default="base", show_default=True)
@click.option("--teacher", "teacher_langs", default="", help="Comma-separated languages to synthesise teacher data for (offline).")
@click.option("--per-lang", default=50, show_default=True, help="Teacher utterances per language.")
@click.option("--steps", default=1000, show_default=True)
@click.option("--batch-size", default=12, show_default=True)
@click.option("--crop-frames", default=256, show_default=True, help="Training window length in frames.")
@click.option("--lr", default=2e-3, show_default=True)
@click.option("--eval-share", default=0.05, show_default=True, help="Share of examples held out for evaluation.")
@click.option("--seed", default=0, show_default=True)
@click.option("--resume", is_flag=True, help="Continue from OUT/checkpoint.safetensors.")
@click.option("--lang", default=None, help="Language of Live Link Face captures.")
def train(data, out_dir, preset, teacher_langs, per_lang, steps, batch_size, crop_frames, lr, eval_share, seed,
          resume, lang):
    """Train a viseme model from DATA (.npz caches / Live Link Face .csv) and/or teacher synthesis."""
    from visemes.models.train import TrainConfig, train_base  # heavy: jax, flax, optax (~2 s)

    out = Path(out_dir)
    vocab = Vocab.load()
    cfg = ModelConfig.preset(preset, n_phones=len(vocab.phones))
    examples = _load_data(tuple(data), lang, vocab, cfg) if data else []
    langs = [c.strip() for c in teacher_langs.split(",") if c.strip()]
    if langs:
        generated = teacher_examples(langs, per_lang, vocab, seed=seed)
        out.mkdir(parents=True, exist_ok=True)
        save_examples(out / "teacher.npz", generated, overwrite=True)
        examples += generated
    if not examples:
        raise InputError("Nothing to train on: give DATA files or --teacher LANGS.")
    tr, ev = _split(examples, eval_share, seed)
    tc = TrainConfig(steps=steps, batch_size=batch_size, crop_frames=crop_frames, lr=lr, seed=seed)
    model, records = train_base(cfg, vocab, tr, ev, tc, out_dir=out, resume=resume)
    path = model.save(out / "model.safetensors", overwrite=True)
    last = next((r for r in reversed(records) if r["split"] == "eval"), None)
    click.echo(f"model: {path} ({model.n_params} parameters, fingerprint {model.fingerprint})")
    if last:
        click.echo(f"eval: articulation MAE {last.get('mae', float('nan')):.4f}")


@click.command()
@click.argument("data", nargs=-1, required=True)
@click.option("--adapter", "name", required=True, help="Adapter name (e.g. ar-EG).")
@click.option("--out", "out_path", default=None, type=click.Path(dir_okay=False), help="Adapter file (.safetensors); default NAME.safetensors.")
@click.option("--base", "base_path", default=None, type=click.Path(dir_okay=False), help="Base model (default: the shipped one).")
@click.option("--dialect", default=None, help="Dialect code recorded with the adapter (default: NAME).")
@click.option("--rank", default=4, show_default=True)
@click.option("--alpha", default=8.0, show_default=True)
@click.option("--targets", default=None, help="Comma-separated regular expressions over layer paths.")
@click.option("--steps", default=300, show_default=True)
@click.option("--batch-size", default=12, show_default=True)
@click.option("--crop-frames", default=256, show_default=True, help="Training window length in frames.")
@click.option("--lr", default=3e-3, show_default=True)
@click.option("--seed", default=0, show_default=True)
@click.option("--lang", default=None, help="Language of Live Link Face captures.")
@click.option("--overwrite", is_flag=True)
def finetune(data, name, out_path, base_path, dialect, rank, alpha, targets, steps, batch_size, crop_frames, lr, seed,
             lang, overwrite):
    """Train a LoRA dialect adapter NAME on DATA; the base model stays unchanged."""
    from visemes.models.train import TrainConfig, finetune_adapter  # heavy: jax, flax, optax (~2 s)

    base = models.load(base_path)
    examples = _load_data(tuple(data), lang, base.vocab, base.cfg)
    tr, ev = _split(examples, 0.1, seed)
    lcfg = LoRAConfig(rank, alpha) if targets is None else LoRAConfig(rank, alpha, tuple(t for t in targets.split(",") if t))
    tc = TrainConfig(steps=steps, batch_size=batch_size, crop_frames=crop_frames, lr=lr, seed=seed,
                     warmup=min(30, steps // 5),
                     eval_every=max(steps // 3, 1), checkpoint_every=10**9)
    adapter, _ = finetune_adapter(base, name, tr, ev, tc, lcfg, dialect=dialect or name)
    path = adapter.save(Path(out_path or f"{name}.safetensors"), overwrite=overwrite)
    click.echo(f"adapter {name}: {path} ({adapter.n_params} parameters, base {adapter.base_fingerprint})")
