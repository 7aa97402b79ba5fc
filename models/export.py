"""Compiled inference: AOT compilation per bucket and ``jax.export`` (StableHLO) serialization.

``export_inference(model, batch_size, n_frames, n_phones)`` exports the *weights-as-argument* inference
function for one bucket; ``serialize``/``deserialize`` give portable bytes that another process (with JAX
but without this package's Python model code) can call: ``exported.call(weights, batch)``.
"""

from __future__ import annotations

import json
import os
from functools import partial
from pathlib import Path

import jax
from flax import nnx

from visemes.core.atomic import atomic_write_bytes, atomic_write_text
from visemes.core.errors import ModelError

from visemes.models.api import VisemeModel, batch_spec
from visemes.models.checkpoint import path_name

EXPORT_FORMAT_VERSION = 1


def _inference(graphdef, template, rest, params, batch):
    # params: {dotted name: array} (a plain dict, so the exported signature needs no Flax types)
    state = nnx.from_flat_state([(k, v.replace(params[path_name(k)])) for k, v in nnx.to_flat_state(template)])
    out = nnx.merge(graphdef, state, rest)(batch)
    return {"articulation": out["articulation"], "blendshapes": out["blendshapes"], "latent": out["latent"],
            **{f"visemes_{k}": v for k, v in out["visemes"].items()}}


def inference_function(model: VisemeModel):
    """(pure function ``f(params, batch)``, params as ``{name: array}``) with the weights as an argument."""
    graphdef, template, rest = nnx.split(nnx.merge(model.graphdef, model.state_for(None)), nnx.Param, ...)
    params = {path_name(k): v.get_value() for k, v in nnx.to_flat_state(template)}
    return partial(_inference, graphdef, template, rest), params


def export_inference(model: VisemeModel, batch_size: int = 1, n_frames: int = 320, n_phones: int = 128):
    """``jax.export.Exported`` of the inference function for one bucket (CPU)."""
    fn, params = inference_function(model)
    spec_params = jax.tree.map(lambda a: jax.ShapeDtypeStruct(a.shape, a.dtype), params)
    return jax.export.export(jax.jit(fn))(spec_params, batch_spec(batch_size, n_frames, n_phones))


def serialize(exported) -> bytes:
    return bytes(exported.serialize())


def deserialize(blob: bytes):
    try:
        return jax.export.deserialize(bytearray(blob))
    except Exception as exc:  # jax raises several types for corrupt input; report one clear error
        raise ModelError(f"Not a serialized visemes inference function ({type(exc).__name__}: {exc}).") from None


def save_export(model: VisemeModel, path: str | os.PathLike, batch_size: int = 1, n_frames: int = 320,
                n_phones: int = 128, overwrite: bool = False) -> Path:
    """Write ``path`` (.stablehlo bytes) and a JSON sidecar describing inputs, outputs and the weights."""
    exported = export_inference(model, batch_size, n_frames, n_phones)
    path = Path(path)
    meta = {
        "format": "visemes.exported_inference", "format_version": EXPORT_FORMAT_VERSION,
        "fingerprint": model.fingerprint, "batch_size": batch_size, "n_frames": n_frames, "n_phones": n_phones,
        "inputs": {k: [list(v.shape), str(v.dtype)] for k, v in batch_spec(batch_size, n_frames, n_phones).items()},
        "config": model.cfg.to_dict(),
    }
    atomic_write_text(path.with_suffix(".json"), json.dumps(meta, indent=1), overwrite=overwrite)
    return atomic_write_bytes(path, serialize(exported), overwrite=overwrite)
