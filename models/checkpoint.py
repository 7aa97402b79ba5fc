"""Weights on disk: safetensors tensors + a JSON sidecar (config, vocabulary, fingerprint, format_version).

Nothing here can execute code on load (no pickle). Names are module paths joined by dots
(``layers.0.attn.q.kernel``).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Mapping

import jax.numpy as jnp
import numpy as np
from flax import nnx
from safetensors import SafetensorError
from safetensors.numpy import load_file, save

from visemes.core.atomic import atomic_write_bytes, atomic_write_text
from visemes.core.errors import ModelError
from visemes.core.timeline import loads_json

MODEL_FORMAT_VERSION = 1


def path_name(path: tuple) -> str:
    return ".".join(str(p) for p in path)


def flatten(state: nnx.State) -> dict[str, np.ndarray]:
    """State -> {dotted name: numpy array} (copies)."""
    return {path_name(k): np.array(v.get_value()) for k, v in nnx.to_flat_state(state)}


def flat_params(model: nnx.Module, wrt=nnx.Param) -> dict[str, np.ndarray]:
    return flatten(nnx.state(model, wrt))


def assign(model: nnx.Module, arrays: Mapping[str, np.ndarray], wrt=nnx.Param, *, strict: bool = True) -> None:
    """Load ``arrays`` into ``model``'s variables of type ``wrt``; names and shapes must match."""
    state = nnx.state(model, wrt)
    flat = list(nnx.to_flat_state(state))
    names = {path_name(k) for k, _ in flat}
    missing = sorted(names - set(arrays))
    extra = sorted(set(arrays) - names)
    if strict and (missing or extra):
        raise ModelError(
            f"Weights do not match the model: missing {missing[:5]}, unexpected {extra[:5]}. "
            "Load them with the config they were saved with."
        )
    for key, var in flat:
        name = path_name(key)
        if name not in arrays:
            continue
        value = np.asarray(arrays[name])
        current = var.get_value()
        if value.shape != current.shape:
            raise ModelError(f"Weight {name} has shape {value.shape}, the model expects {current.shape}.")
        var.set_value(jnp.asarray(value, dtype=current.dtype))
    nnx.update(model, nnx.from_flat_state(flat))


def fingerprint(arrays: Mapping[str, np.ndarray]) -> str:
    """Content hash of a set of weights (names, dtypes, shapes and bytes), hex, 16 characters."""
    h = hashlib.sha256()
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(f"{name}|{a.dtype.str}|{a.shape}|".encode())
        h.update(a.tobytes())
    return h.hexdigest()[:16]


def sidecar_path(weights_path: str | os.PathLike) -> Path:
    return Path(weights_path).with_suffix(".json")


def save_tensors(path: str | os.PathLike, arrays: Mapping[str, np.ndarray], meta: Mapping[str, Any],
                 overwrite: bool = False) -> Path:
    """Write ``path`` (.safetensors) and its JSON sidecar atomically."""
    path = Path(path)
    if path.suffix != ".safetensors":
        raise ModelError(f"Weights file must end in .safetensors, got {path.name}.")
    blob = save({k: np.ascontiguousarray(v) for k, v in arrays.items()},
                metadata={"format_version": str(meta.get("format_version", MODEL_FORMAT_VERSION))})
    sidecar = sidecar_path(path)
    atomic_write_text(sidecar, json.dumps(dict(meta), ensure_ascii=False, indent=1), overwrite=overwrite)
    atomic_write_bytes(path, blob, overwrite=overwrite)
    return path


def load_tensors(path: str | os.PathLike, expect_format: str) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    path = Path(path)
    sidecar = sidecar_path(path)
    if not path.is_file() or not sidecar.is_file():
        raise ModelError(f"Need both {path} and {sidecar}; one is missing. Re-export or reinstall the weights.")
    try:
        text = sidecar.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelError(f"Cannot read {sidecar} ({exc}); re-export or reinstall the weights.") from None
    meta = loads_json(text, str(sidecar), ModelError, "the file is damaged; re-export or reinstall the weights")
    if not isinstance(meta, dict):
        raise ModelError(f"{sidecar} must hold a JSON object; the file is damaged. Re-export or reinstall the weights.")
    if meta.get("format") != expect_format:
        raise ModelError(f"{sidecar} is a {meta.get('format')!r} file, expected {expect_format!r}.")
    if meta.get("format_version") != MODEL_FORMAT_VERSION:
        raise ModelError(
            f"{sidecar}: format_version {meta.get('format_version')!r} is not supported (this visemes reads "
            f"{MODEL_FORMAT_VERSION}); upgrade visemes."
        )
    try:
        arrays = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as exc:
        raise ModelError(f"{path} is truncated or not a safetensors file ({exc}).") from None
    check_finite(arrays, path)
    return dict(arrays), meta


def check_finite(arrays: Mapping[str, np.ndarray], source: str | os.PathLike) -> None:
    """Raise if a tensor holds NaN or infinity (such weights load fine and fail only at prediction)."""
    for name in sorted(arrays):
        a = np.asarray(arrays[name])
        if not np.issubdtype(a.dtype, np.number):
            raise ModelError(f"{source}: tensor {name} has dtype {a.dtype}, not numbers; re-export the weights.")
        if np.issubdtype(a.dtype, np.inexact) and not np.all(np.isfinite(a)):
            raise ModelError(f"{source}: tensor {name} holds NaN or infinite values; the weights are damaged "
                             "(retrain or reinstall them).")
