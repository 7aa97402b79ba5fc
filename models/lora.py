"""Low-rank adapters (LoRA) as their own parameter type, ``nnx.LoRAParam``.

``inject(model, cfg, rngs)`` wraps every ``nnx.Linear`` whose dotted path fully matches one of
``cfg.targets`` in a :class:`LoRALinear`; training then filters on ``nnx.LoRAParam`` so the optimizer and
the gradients see only the adapters. Adapters are stored by the *base* layer path (``layers.0.attn.q``)
with ``.lora_a`` / ``.lora_b`` suffixes, so they can be merged into base weights that never had them.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Mapping

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from visemes.core.errors import AdapterMismatchError, ModelError

from visemes.models.checkpoint import MODEL_FORMAT_VERSION, load_tensors, path_name, save_tensors
from visemes.models.config import LoRAConfig


class LoRALinear(nnx.Module):
    """``base(x) + scale * (x @ a) @ b``; ``b`` starts at zero so a fresh adapter changes nothing."""

    def __init__(self, base: nnx.Linear, rank: int, alpha: float, *, rngs: nnx.Rngs):
        self.base = base
        d_in, d_out = base.in_features, base.out_features
        self.lora_a = nnx.LoRAParam(jax.random.normal(rngs.params(), (d_in, rank)) / np.sqrt(d_in))
        self.lora_b = nnx.LoRAParam(jnp.zeros((rank, d_out)))
        self.scale = alpha / rank

    def __call__(self, x: jax.Array) -> jax.Array:
        return self.base(x) + (x @ self.lora_a[...]) @ self.lora_b[...] * self.scale


def target_paths(model: nnx.Module, cfg: LoRAConfig) -> list[str]:
    patterns = [re.compile(t) for t in cfg.targets]
    found = []
    for path, module in nnx.iter_modules(model):
        name = path_name(path)
        if isinstance(module, nnx.Linear) and any(p.fullmatch(name) for p in patterns):
            found.append(name)
    return sorted(found)


def inject(model: nnx.Module, cfg: LoRAConfig, rngs: nnx.Rngs) -> list[str]:
    """Wrap the target linears of ``model`` in place; returns their paths."""
    paths = target_paths(model, cfg)
    if not paths:
        raise ModelError(f"No layer of the model matches the LoRA targets {list(cfg.targets)}.")
    for name in paths:
        *parent_path, attr = name.split(".")
        parent = model
        for part in parent_path:
            parent = parent[int(part)] if part.isdigit() else getattr(parent, part)
        setattr(parent, attr, LoRALinear(getattr(parent, attr), cfg.rank, cfg.alpha, rngs=rngs))
    return paths


def adapter_arrays(model: nnx.Module) -> dict[str, np.ndarray]:
    """{``<layer>.lora_a``/``<layer>.lora_b``: array} from a model with injected adapters."""
    out = {}
    for key, var in nnx.to_flat_state(nnx.state(model, nnx.LoRAParam)):
        out[path_name(key)] = np.array(var.get_value())
    return out


def check_fits(base: Mapping[str, np.ndarray], adapter: Mapping[str, np.ndarray], rank: int, what: str = "The adapter") -> None:
    """Raise :class:`AdapterMismatchError` unless every adapted layer has a ``lora_a`` (d_in, rank) and a
    ``lora_b`` (rank, d_out) that fit the base kernel (d_in, d_out)."""
    hint = "fine-tune the adapter again on this base model (`visemes finetune`)."
    if not adapter:
        raise AdapterMismatchError(f"{what} holds no tensors; {hint}")
    for name in sorted(adapter):
        layer, _, part = name.rpartition(".")
        if part not in ("lora_a", "lora_b") or not layer:
            raise AdapterMismatchError(f"{what} has a tensor {name!r} that is not a LoRA factor (.lora_a/.lora_b); {hint}")
    for layer in sorted({k.rsplit(".", 1)[0] for k in adapter}):
        kernel = base.get(f"{layer}.kernel")
        a, b = adapter.get(f"{layer}.lora_a"), adapter.get(f"{layer}.lora_b")
        if kernel is None:
            raise AdapterMismatchError(f"{what}: layer {layer!r} does not exist in the base model; {hint}")
        if a is None or b is None:
            raise AdapterMismatchError(f"{what}: layer {layer!r} lacks its lora_a or lora_b tensor; {hint}")
        d_in, d_out = np.shape(kernel)
        if np.shape(a) != (d_in, rank) or np.shape(b) != (rank, d_out):
            raise AdapterMismatchError(
                f"{what}: layer {layer!r} has factors {np.shape(a)} x {np.shape(b)}, but the base kernel is "
                f"{(d_in, d_out)} and the rank {rank}; the adapter was made for another model; {hint}"
            )


def merge(base: Mapping[str, np.ndarray], adapter: Mapping[str, np.ndarray], scale: float) -> dict[str, np.ndarray]:
    """Base weights with ``scale * a @ b`` added to every adapted kernel (zero-overhead inference)."""
    out = dict(base)
    for layer in sorted({k.rsplit(".", 1)[0] for k in adapter}):
        kernel = f"{layer}.kernel"
        if kernel not in out:
            raise ModelError(f"Adapter layer {layer!r} does not exist in the base model.")
        delta = (adapter[f"{layer}.lora_a"].astype(np.float64) @ adapter[f"{layer}.lora_b"].astype(np.float64)) * scale
        out[kernel] = (out[kernel].astype(np.float64) + delta).astype(out[kernel].dtype)
    return out


def unmerge(merged: Mapping[str, np.ndarray], adapter: Mapping[str, np.ndarray], scale: float) -> dict[str, np.ndarray]:
    """Inverse of :func:`merge` by subtraction (exact up to float32 rounding, ~1e-7)."""
    out = dict(merged)
    for layer in sorted({k.rsplit(".", 1)[0] for k in adapter}):
        kernel = f"{layer}.kernel"
        delta = (adapter[f"{layer}.lora_a"].astype(np.float64) @ adapter[f"{layer}.lora_b"].astype(np.float64)) * scale
        out[kernel] = (out[kernel].astype(np.float64) - delta).astype(out[kernel].dtype)
    return out


ADAPTER_FORMAT = "visemes.adapter"


class Adapter:
    """A trained adapter on its own: arrays keyed ``<layer>.lora_a|b`` plus what it belongs to."""

    def __init__(self, name: str, arrays: Mapping[str, np.ndarray], lora: LoRAConfig, base_fingerprint: str,
                 dialect: str | None = None, meta: Mapping | None = None):
        self.name = name
        self.arrays = {k: np.asarray(v, np.float32) for k, v in arrays.items()}
        self.lora = lora
        self.base_fingerprint = base_fingerprint
        self.dialect = dialect
        self.meta = dict(meta or {})

    @property
    def n_params(self) -> int:
        return int(sum(a.size for a in self.arrays.values()))

    def save(self, path, overwrite: bool = False):
        meta = {
            "format": ADAPTER_FORMAT, "format_version": MODEL_FORMAT_VERSION, "name": self.name,
            "dialect": self.dialect, "base_fingerprint": self.base_fingerprint, **self.lora.to_dict(),
            "meta": self.meta,
        }
        return save_tensors(path, self.arrays, meta, overwrite=overwrite)

    @classmethod
    def load(cls, path) -> "Adapter":
        arrays, meta = load_tensors(path, ADAPTER_FORMAT)
        where = Path(path).with_suffix(".json")
        for key in ("name", "base_fingerprint"):
            if not isinstance(meta.get(key), str) or not meta[key]:
                raise ModelError(f"{where}: {key!r} must be a non-empty string; re-export the adapter (`visemes finetune`).")
        if meta.get("dialect") is not None and not isinstance(meta["dialect"], str):
            raise ModelError(f"{where}: 'dialect' must be a string or null; re-export the adapter.")
        if meta.get("meta") is not None and not isinstance(meta["meta"], dict):
            raise ModelError(f"{where}: 'meta' must be a JSON object; re-export the adapter.")
        try:
            settings = LoRAConfig.from_dict(meta)
        except ModelError as exc:
            raise ModelError(f"{where}: {exc}") from None
        if not arrays or any(k.rpartition(".")[2] not in ("lora_a", "lora_b") for k in arrays):
            raise ModelError(f"{path}: expected LoRA factors named <layer>.lora_a/.lora_b; re-export the adapter.")
        return cls(meta["name"], arrays, settings, meta["base_fingerprint"], meta.get("dialect"), meta.get("meta"))
