"""Training (optax) for the base model and for LoRA adapters.

AdamW with warmup + cosine decay and global-norm clipping; masked losses over padded batches
(articulation and blendshape MSE plus a velocity term, viseme cross-entropy); an eval split with
per-language errors; metrics as JSONL; resumable checkpoints (safetensors + JSON, never pickle).

Every batch has the same padded shape (``crop_frames`` x ``phone_bucket``), so the step compiles once.
Batches are drawn from ``np.random.default_rng([seed, step])``: a resumed run sees the same data.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from visemes.core.errors import InputError, ModelError
from visemes.core.progress import ProgressBar

from visemes.models import checkpoint, lora
from visemes.models.api import VisemeModel
from visemes.models.config import LoRAConfig, ModelConfig
from visemes.models.data import Example
from visemes.models.inputs import bucket, collate, PHONE_BUCKETS
from visemes.models.network import VisemeTransformer, abstract_model, init_model
from visemes.models.vocab import Vocab

TRAIN_FORMAT = "visemes.train_state"


@dataclass(frozen=True)
class TrainConfig:
    steps: int = 1000
    batch_size: int = 16
    crop_frames: int = 256
    phone_bucket: int = 128
    lr: float = 2e-3
    warmup: int = 100
    weight_decay: float = 0.01
    clip_norm: float = 1.0
    w_articulation: float = 1.0
    w_blendshapes: float = 0.5
    w_velocity: float = 2.0
    w_visemes: float = 0.1
    audio_dropout: float = 0.5     # share of examples whose audio features are hidden (model must work without)
    lang_dropout: float = 0.15     # share shown as unknown language/dialect, so unseen languages get a trained id
    eval_every: int = 200
    checkpoint_every: int = 200
    seed: int = 0

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "TrainConfig":
        return cls(**d)


def schedule(cfg: TrainConfig) -> optax.Schedule:
    return optax.warmup_cosine_decay_schedule(0.0, cfg.lr, max(1, min(cfg.warmup, cfg.steps - 1)), max(cfg.steps, 2),
                                              end_value=cfg.lr * 0.05)


def scale_by_given_lr() -> optax.GradientTransformationExtraArgs:
    """The learning-rate step of AdamW, with the rate passed per step (``lr=``) instead of baked in, so one
    compiled step serves every schedule and run length."""

    def update(updates, state, params=None, *, lr, **extra):
        return jax.tree.map(lambda u: -lr * u, updates), state

    return optax.GradientTransformationExtraArgs(lambda params: optax.EmptyState(), update)


@functools.lru_cache(maxsize=8)
def _tx(clip_norm: float, weight_decay: float) -> optax.GradientTransformation:
    # AdamW = scale_by_adam -> add_decayed_weights -> scale by -lr (optax.adamw's own composition)
    return optax.chain(optax.clip_by_global_norm(clip_norm), optax.scale_by_adam(),
                       optax.add_decayed_weights(weight_decay), scale_by_given_lr())


def make_tx(cfg: TrainConfig) -> optax.GradientTransformation:
    """AdamW with global-norm clipping; the warmup + cosine rate from :func:`schedule` is given per step."""
    return _tx(float(cfg.clip_norm), float(cfg.weight_decay))


# --- batches ---------------------------------------------------------------------------------------


def make_batch(examples: Sequence[Example], cfg: TrainConfig, rng: np.random.Generator | None,
               n_frames: int | None = None) -> dict[str, np.ndarray]:
    """Crop (random window when ``rng``), pad, and attach targets and target masks."""
    T = n_frames or cfg.crop_frames
    items = []
    for e in examples:
        if e.inputs.n_frames > T:
            start = int(rng.integers(0, e.inputs.n_frames - T + 1)) if rng is not None else 0
            e = e.crop(start, start + T)
        items.append(e)
    P = max(cfg.phone_bucket, bucket(max(max(e.inputs.n_phones for e in items), 1), PHONE_BUCKETS))
    batch = collate([e.inputs for e in items], T, P)
    if rng is not None and cfg.audio_dropout > 0:
        hide = rng.random(len(items)) < cfg.audio_dropout
        batch["audio"][hide] = 0.0
    if rng is not None and cfg.lang_dropout > 0:
        hide = rng.random(len(items)) < cfg.lang_dropout
        batch["lang"][hide] = 0
        batch["dialect"][hide] = 0
    B = len(items)
    K = items[0].blendshapes.shape[1]
    V = items[0].visemes.shape[1]
    art = np.zeros((B, T, items[0].articulation.shape[1]), np.float32)
    bs = np.zeros((B, T, K), np.float32)
    vis = np.zeros((B, T, V), np.float32)
    has = np.zeros((B, 3), np.float32)
    for b, e in enumerate(items):
        t = e.inputs.n_frames
        art[b, :t], bs[b, :t], vis[b, :t] = e.articulation, e.blendshapes, e.visemes
        has[b] = e.has
    batch.update(target_articulation=art, target_blendshapes=bs, target_visemes=vis, target_has=has)
    return batch


def _masked_mean(err: jax.Array, mask: jax.Array) -> jax.Array:
    return jnp.sum(err * mask) / jnp.maximum(jnp.sum(mask), 1.0)


def losses(out: Mapping[str, Any], batch: Mapping[str, jax.Array], cfg: TrainConfig, viseme_set: str) -> dict[str, jax.Array]:
    m = batch["frame_mask"].astype(jnp.float32)                         # [B, T]
    has = batch["target_has"]                                            # [B, 3]
    pair = m[:, 1:] * m[:, :-1]
    terms = {}
    for i, key in enumerate(("articulation", "blendshapes")):
        pred, tgt = out[key], batch[f"target_{key}"]
        mask = (m * has[:, i : i + 1])[..., None]
        terms[key] = _masked_mean(jnp.square(pred - tgt), jnp.broadcast_to(mask, pred.shape))
        vel_err = jnp.square(jnp.diff(pred, axis=1) - jnp.diff(tgt, axis=1))
        vmask = (pair * has[:, i : i + 1])[..., None]
        terms[f"{key}_velocity"] = _masked_mean(vel_err, jnp.broadcast_to(vmask, vel_err.shape))
    logp = jax.nn.log_softmax(out["visemes"][viseme_set], axis=-1)
    ce = -jnp.sum(batch["target_visemes"] * logp, axis=-1)
    terms["visemes"] = _masked_mean(ce, m * has[:, 2:3])
    terms["loss"] = (
        cfg.w_articulation * terms["articulation"] + cfg.w_blendshapes * terms["blendshapes"]
        + cfg.w_velocity * (terms["articulation_velocity"] + cfg.w_blendshapes * terms["blendshapes_velocity"])
        + cfg.w_visemes * terms["visemes"]
    )
    return terms


LOSS_FIELDS = ("w_articulation", "w_blendshapes", "w_velocity", "w_visemes")


def make_step(cfg: TrainConfig, wrt, viseme_set: str = "oculus") -> Callable:
    """The jitted train step; gradients only for variables matching ``wrt`` (nnx.DiffState).
    Cached on what it depends on, so runs that differ in length or rate reuse one compilation."""
    return _make_step(tuple(getattr(cfg, f) for f in LOSS_FIELDS), wrt, viseme_set)


@functools.lru_cache(maxsize=8)
def _make_step(weights: tuple[float, ...], wrt, viseme_set: str) -> Callable:
    cfg = TrainConfig(**dict(zip(LOSS_FIELDS, weights)))

    @nnx.jit
    def step(model, optimizer, batch, lr):
        def loss_fn(model):
            terms = losses(model(batch), batch, cfg, viseme_set)
            return terms["loss"], terms

        grad_fn = nnx.value_and_grad(loss_fn, argnums=nnx.DiffState(0, wrt), has_aux=True)
        (_, terms), grads = grad_fn(model)
        optimizer.update(model, grads, lr=lr)
        return terms

    return step


@nnx.jit
def eval_outputs(model, batch):
    return model(batch)


# --- evaluation ---------------------------------------------------------------------------------------


def evaluate(model: VisemeTransformer, examples: Sequence[Example], cfg: TrainConfig,
             viseme_set: str = "oculus", batch_size: int = 16) -> dict[str, Any]:
    """Mean absolute articulation error overall and per language, viseme accuracy, per-parameter correlation."""
    model.eval()
    per_lang: dict[str, list[float]] = {}
    preds, tgts = [], []
    acc_hits = acc_n = 0
    T = bucket(max(e.inputs.n_frames for e in examples), (cfg.crop_frames, 512, 1024))
    for i in range(0, len(examples), batch_size):
        chunk = list(examples[i : i + batch_size])
        batch = make_batch(chunk, cfg, None, n_frames=min(T, 1024))
        out = jax.tree.map(np.asarray, eval_outputs(model, batch))
        for b, e in enumerate(chunk):
            t = min(e.inputs.n_frames, batch["frame_mask"].shape[1])
            p, g = out["articulation"][b, :t], e.articulation[:t]
            if e.has[0]:
                per_lang.setdefault(e.lang, []).append(float(np.abs(p - g).mean()))
                preds.append(p)
                tgts.append(g)
            if e.has[2]:
                acc_hits += int((out["visemes"][viseme_set][b, :t].argmax(-1) == e.visemes[:t].argmax(-1)).sum())
                acc_n += t
    model.train()
    result: dict[str, Any] = {"per_lang_mae": {k: float(np.mean(v)) for k, v in sorted(per_lang.items())}}
    if preds:
        P, G = np.concatenate(preds), np.concatenate(tgts)
        result["mae"] = float(np.abs(P - G).mean())
        # None where the teacher never moves a channel (correlation undefined; JSON has no NaN)
        result["corr"] = [float(np.corrcoef(P[:, k], G[:, k])[0, 1]) if G[:, k].std() > 1e-6 and P[:, k].std() > 1e-9
                          else None for k in range(P.shape[1])]
    if acc_n:
        result["viseme_acc"] = acc_hits / acc_n
    return result


# --- checkpoints -------------------------------------------------------------------------------------


def _opt_arrays(optimizer: nnx.Optimizer) -> dict[str, np.ndarray]:
    return {f"opt.{k}": v for k, v in checkpoint.flatten(nnx.state(optimizer)).items()}


def save_train_state(path: Path, model: VisemeTransformer, optimizer: nnx.Optimizer, step: int, wrt,
                     meta: Mapping[str, Any]) -> None:
    arrays = {f"model.{k}": v for k, v in checkpoint.flat_params(model, wrt).items()}
    arrays.update(_opt_arrays(optimizer))
    doc = {"format": TRAIN_FORMAT, "format_version": checkpoint.MODEL_FORMAT_VERSION, "step": step, **meta}
    checkpoint.save_tensors(path, arrays, doc, overwrite=True)


def load_train_state(path: Path, model: VisemeTransformer, optimizer: nnx.Optimizer, wrt) -> dict[str, Any]:
    arrays, meta = checkpoint.load_tensors(path, TRAIN_FORMAT)
    checkpoint.assign(model, {k[6:]: v for k, v in arrays.items() if k.startswith("model.")}, wrt)
    opt = {k[4:]: v for k, v in arrays.items() if k.startswith("opt.")}
    state = nnx.state(optimizer)
    flat = []
    for key, var in nnx.to_flat_state(state):
        name = checkpoint.path_name(key)
        if name not in opt:
            raise ModelError(f"{path}: optimizer state lacks {name}; start a fresh run (drop --resume).")
        flat.append((key, var.replace(jnp.asarray(opt[name], dtype=var.get_value().dtype))))
    nnx.update(optimizer, nnx.from_flat_state(flat))
    return meta


# --- loop ---------------------------------------------------------------------------------------------


def fit(model: VisemeTransformer, train: Sequence[Example], evals: Sequence[Example], cfg: TrainConfig, *,
        wrt=nnx.Param, out_dir: str | os.PathLike | None = None, resume: bool = False, progress: bool = True,
        meta: Mapping[str, Any] | None = None, log: Callable[[dict], None] | None = None,
        stop_after: int | None = None) -> list[dict[str, Any]]:
    """Train ``model`` in place on ``train`` (only variables matching ``wrt``); returns the metric records.
    ``stop_after`` ends this call early at that step (as if interrupted; ``resume`` continues)."""
    if not train:
        raise InputError("No training examples.")
    viseme_set = model.cfg.viseme_sets[0][0]
    optimizer = nnx.Optimizer(model, make_tx(cfg), wrt=wrt)
    out = Path(out_dir) if out_dir is not None else None
    ckpt = out / "checkpoint.safetensors" if out else None
    start = 0
    if resume and ckpt is not None and ckpt.is_file():
        start = int(load_train_state(ckpt, model, optimizer, wrt)["step"])
    step_fn = make_step(cfg, wrt, viseme_set)
    lr_at = schedule(cfg)
    records: list[dict[str, Any]] = []
    metrics_path = out / "metrics.jsonl" if out else None
    if out:
        out.mkdir(parents=True, exist_ok=True)
    doc_meta = {"train_config": cfg.to_dict(), "model_config": model.cfg.to_dict(), **dict(meta or {})}

    def emit(rec: dict[str, Any]) -> None:
        records.append(rec)
        if log:
            log(rec)
        if metrics_path:
            with open(metrics_path, "a", encoding="utf-8") as fh:  # append-only log: one JSON object per line
                fh.write(json.dumps(rec) + "\n")

    model.train()
    bar = ProgressBar(cfg.steps, "training", unit="steps", initial=start, enabled=progress)
    t0 = time.perf_counter()
    window: list[dict[str, float]] = []
    for step in range(start, cfg.steps if stop_after is None else min(cfg.steps, stop_after)):
        rng = np.random.default_rng([cfg.seed, step])
        idx = rng.integers(0, len(train), cfg.batch_size)
        batch = make_batch([train[int(i)] for i in idx], cfg, rng)
        terms = step_fn(model, optimizer, batch, jnp.float32(lr_at(step)))
        window.append({k: float(v) for k, v in terms.items()})
        bar.advance()
        done = step + 1
        if done % 20 == 0 or done == cfg.steps:
            avg = {k: float(np.mean([w[k] for w in window])) for k in window[0]}
            bar.advance(0, status=f"loss {avg['loss']:.4f}")
            emit({"step": done, "split": "train", "time_s": round(time.perf_counter() - t0, 2), **avg})
            window = []
        if evals and (done % cfg.eval_every == 0 or done == cfg.steps):
            emit({"step": done, "split": "eval", **evaluate(model, evals, cfg, viseme_set)})
        if ckpt is not None and (done % cfg.checkpoint_every == 0 or done == cfg.steps or done == stop_after):
            save_train_state(ckpt, model, optimizer, done, wrt, doc_meta)
    bar.close()
    model.eval()
    return records


def train_base(model_cfg: ModelConfig, vocab: Vocab, train: Sequence[Example], evals: Sequence[Example],
               cfg: TrainConfig, **kwargs: Any) -> tuple[VisemeModel, list[dict[str, Any]]]:
    """A new base model trained from scratch (params initialised from ``cfg.seed``)."""
    module = init_model(model_cfg, nnx.Rngs(params=cfg.seed, dropout=cfg.seed + 1))
    records = fit(module, train, evals, cfg, wrt=nnx.Param, **kwargs)
    return VisemeModel(module, vocab, {"train_config": cfg.to_dict()}), records


def finetune_adapter(base: VisemeModel, name: str, train: Sequence[Example], evals: Sequence[Example],
                     cfg: TrainConfig, lora_cfg: LoRAConfig = LoRAConfig(), *, dialect: str | None = None,
                     **kwargs: Any) -> tuple[lora.Adapter, list[dict[str, Any]]]:
    """Train a LoRA adapter on top of ``base`` (its weights stay untouched): only ``nnx.LoRAParam``
    variables get gradients and optimizer state."""
    module = abstract_model(base.cfg)
    checkpoint.assign(module, base.base_arrays)
    lora.inject(module, lora_cfg, nnx.Rngs(params=cfg.seed))
    records = fit(module, train, evals, cfg, wrt=nnx.LoRAParam, **kwargs)
    adapter = lora.Adapter(name, lora.adapter_arrays(module), lora_cfg, base.fingerprint, dialect,
                           {"train_config": cfg.to_dict(), "examples": len(train)})
    return adapter, records
