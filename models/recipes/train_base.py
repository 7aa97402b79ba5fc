"""Reproducible recipe for the shipped base model (``models/weights/base.safetensors``).

    python -m visemes.models.recipes.train_base --work /tmp/visemes-base            # data + train + install
    python -m visemes.models.recipes.train_base --work DIR --stage data|train|install

Stage ``data`` synthesises teacher examples (espeak-ng + coarticulation, offline) into ``DIR/*.npz``;
``train`` trains the ``base`` preset with resumable checkpoints and ``DIR/metrics.jsonl``; ``install``
writes the weights and their JSON into ``models/weights`` (pass ``--overwrite``).
Deterministic for a seed (up to thread scheduling in XLA reductions).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from visemes.core.progress import track
from visemes.models.config import ModelConfig
from visemes.models.data import load_examples, save_examples
from visemes.models.teacher import teacher_examples
from visemes.models.vocab import Vocab, build_vocab

#: Languages the base model is trained on (espeak-ng voices with packs or generic fallback packs).
TRAIN_LANGS: tuple[str, ...] = (
    "en-us", "de", "es", "pt-br", "sv", "da", "nb", "fi", "pl", "cs", "hu", "ro", "ru", "bg", "el", "tr",
    "ar", "he", "fa", "hi", "bn", "ta", "cmn", "yue", "ja", "ko", "vi", "id", "sw", "ca", "hr", "lt",
)
#: Languages never seen in training: the agreement benchmark measures generalisation on them.
HELDOUT_LANGS: tuple[str, ...] = ("it", "nl", "uk", "ur", "ms", "te", "cy", "eu")


def stage_data(work: Path, per_lang: int, eval_per_lang: int, seed: int) -> None:
    vocab = build_vocab(extra_langs=list(TRAIN_LANGS))
    vocab.save(work / "phone_vocab.json", overwrite=True)
    for name, langs, n, s in (("train", TRAIN_LANGS, per_lang, seed), ("eval", TRAIN_LANGS, eval_per_lang, seed + 1),
                              ("heldout", HELDOUT_LANGS, eval_per_lang, seed + 2)):
        t0 = time.perf_counter()
        ex = teacher_examples(langs, n, vocab, seed=s, progress=lambda it: track(it, name))
        save_examples(work / f"{name}.npz", ex, overwrite=True)
        frames = sum(e.inputs.n_frames / e.fps for e in ex)
        print(f"{name}: {len(ex)} utterances, {frames / 60:.1f} min of speech, {time.perf_counter() - t0:.0f} s")


def stage_train(work: Path, steps: int, batch_size: int, seed: int, resume: bool) -> None:
    from visemes.models.train import TrainConfig, train_base  # heavy: jax, flax, optax (~2 s)

    vocab = Vocab.load(work / "phone_vocab.json")
    train, evals = load_examples(work / "train.npz"), load_examples(work / "eval.npz")[::3]  # eval cost
    cfg = ModelConfig.base(n_phones=len(vocab.phones), n_langs=max(64, len(vocab.langs)),
                           n_dialects=max(64, len(vocab.dialects)))
    tc = TrainConfig(steps=steps, batch_size=batch_size, crop_frames=192, seed=seed,
                     eval_every=max(50, steps // 5), checkpoint_every=50)
    model, _ = train_base(cfg, vocab, train, evals, tc, out_dir=work, resume=resume)
    model.save(work / "base.safetensors", overwrite=True, meta={"recipe": "visemes.models.recipes.train_base",
                                                               "train_langs": list(TRAIN_LANGS)})
    print(f"saved {work / 'base.safetensors'} ({model.n_params} parameters, fingerprint {model.fingerprint})")


def stage_install(work: Path, overwrite: bool) -> None:
    from visemes.models.api import VisemeModel  # heavy: jax, flax (~2 s)

    dest = Path(__file__).resolve().parents[1] / "weights"
    model = VisemeModel.load(work / "base.safetensors")
    model.save(dest / "base.safetensors", overwrite=overwrite)
    model.vocab.save(dest / "phone_vocab.json", overwrite=True)
    print(f"installed into {dest}")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="Train the shipped base viseme model.")
    ap.add_argument("--work", type=Path, required=True)
    ap.add_argument("--stage", choices=("all", "data", "train", "install"), default="all")
    ap.add_argument("--per-lang", type=int, default=50)
    ap.add_argument("--eval-per-lang", type=int, default=6)
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--batch-size", type=int, default=12)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--overwrite", action="store_true")
    args = ap.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    if args.stage in ("all", "data"):
        stage_data(args.work, args.per_lang, args.eval_per_lang, args.seed)
    if args.stage in ("all", "train"):
        stage_train(args.work, args.steps, args.batch_size, args.seed, args.resume)
    if args.stage in ("all", "install"):
        stage_install(args.work, args.overwrite or args.stage == "all")


if __name__ == "__main__":
    main()
