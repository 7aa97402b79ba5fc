"""Portable export: the neural model as an ONNX graph (jax2onnx), checked with onnxruntime, and an int8
version (onnxruntime dynamic quantization) that is written only when it passes an accuracy gate.

The graph is the inference function of :mod:`visemes.models.export` with the weights baked in:
inputs are the model batch of :func:`visemes.models.inputs.batch_layout` (same names, dtypes and
axes) with dynamic batch ``B``, frames ``T`` and phones ``P``; outputs are ``articulation``,
``blendshapes``, ``latent`` and one ``visemes_<set>`` logit head per viseme set. ``T`` must be a
multiple of the attention block (``attn_block``, 16): pad with ``frame_mask`` false, as
:func:`visemes.models.inputs.collate` does. A JSON sidecar (:func:`sidecar`) carries what a host
needs to build the inputs without Python: the phone vocabulary with every phone's feature vector,
language/dialect ids and the channel names of every output.

jax2onnx and onnxruntime are optional (``pip install 'visemes[onnx]'``); they are imported inside
the functions that need them.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import logging
import os
import tempfile
import time
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from visemes.core.atomic import atomic_write_bytes, atomic_write_text
from visemes.core.errors import BackendUnavailableError, InputError, ModelError

from visemes.models.api import VisemeModel, softmax
from visemes.models.features import phone_features
from visemes.models.inputs import UtteranceInputs, batch_layout, collate
from visemes.models.recipes.train_base import HELDOUT_LANGS
from visemes.models.teacher import teacher_examples

ONNX_FORMAT = "visemes.onnx_model"
ONNX_FORMAT_VERSION = 1
#: the newest opset Unity Sentis loads (7-15); ONNX Runtime (native, web, Unreal NNE) loads it too, and the
#: graph uses no operator newer than that (opsets 15-23 give the same operators and the same numbers)
DEFAULT_OPSET = 15
#: the graph's inputs, in order (the one definition is batch_layout)
INPUT_NAMES: tuple[str, ...] = tuple(batch_layout(1, 1, 1))
#: symbolic axis names of each input (batch, frames, phones; other axes are fixed)
_AXES = {
    "phone_ids": ("B", "P"), "phone_feats": ("B", "P", None), "tones": ("B", "P"), "stress": ("B", "P"),
    "frame_phone": ("B", "T"), "frame_pos": ("B", "T", None), "frame_time": ("B", "T"),
    "audio": ("B", "T", None), "frame_mask": ("B", "T"), "lang": ("B",), "dialect": ("B",),
}
#: int8 gate on held-out sentences (curves in [0, 1], viseme probabilities): max and mean absolute
#: difference from float32, and the share of frames whose most likely viseme is unchanged
INT8_MAX_ABS = 0.05
INT8_MEAN_ABS = 0.005
INT8_MIN_AGREEMENT = 0.97
#: ONNX float32 must match JAX this closely (the same tolerance the tests check)
F32_TOLERANCE = 1e-4


def output_names(model: VisemeModel) -> tuple[str, ...]:
    return ("articulation", "blendshapes", "latent", *(f"visemes_{n}" for n, _ in model.cfg.viseme_sets))


def _require(name: str):
    try:
        return importlib.import_module(name)
    except ImportError:
        raise BackendUnavailableError(
            f"{name} is not installed; ONNX export needs the optional extra: pip install 'visemes[onnx]'."
        ) from None


def graph_function(model: VisemeModel, adapter: str | None = None):
    """``f(*inputs in INPUT_NAMES order) -> outputs in output_names order``, weights closed over."""
    module = nnx.merge(model.graphdef, model.state_for(adapter))
    module.eval()
    heads = [n for n, _ in model.cfg.viseme_sets]

    def f(*args):
        batch = dict(zip(INPUT_NAMES, args))
        # jax2onnx 0.17 lowers the network's `where(frame_phone < 0, P, ...)` (P: the phone axis)
        # with the length of the wrong tensor (the phone table, P + 1), so silence indexes past the
        # table in onnxruntime. Mapping silence to P here first, with P counted from the data (no
        # shape-as-value op), leaves the network's own mapping nothing to do: the same numbers.
        n_phones = jnp.sum(jnp.ones_like(batch["phone_ids"][0]))
        batch["frame_phone"] = jnp.where(batch["frame_phone"] < 0, n_phones, batch["frame_phone"])
        out = module(batch)
        return (out["articulation"], out["blendshapes"], out["latent"], *(out["visemes"][h] for h in heads))

    return f


def to_onnx(model: VisemeModel, *, opset: int = DEFAULT_OPSET, adapter: str | None = None) -> bytes:
    """The model as a serialized ONNX ModelProto (float32, dynamic B/T/P)."""
    jax2onnx = _require("jax2onnx")
    B, T, P = jax.export.symbolic_shape("B,T,P")
    sym = {"B": B, "T": T, "P": P}
    layout = batch_layout(1, 1, 1)
    specs = []
    for name in INPUT_NAMES:
        shape, dtype = layout[name]
        dims = tuple(sym[a] if a is not None else shape[i] for i, a in enumerate(_AXES[name]))
        specs.append(jax.ShapeDtypeStruct(dims, dtype))
    with _quiet():
        proto = jax2onnx.to_onnx(graph_function(model, adapter), specs, model_name=f"visemes_{model.cfg.name}",
                                 opset=opset, input_names=list(INPUT_NAMES), output_names=list(output_names(model)))
    for key, value in (("visemes.fingerprint", model.fingerprint), ("visemes.format", ONNX_FORMAT)):
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    return proto.SerializeToString()


@contextlib.contextmanager
def _quiet():
    # onnx_ir warns once per shape constant while serializing (hundreds of lines, harmless)
    logger = logging.getLogger("onnx_ir")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def session(blob: bytes, threads: int | None = None):
    """An onnxruntime CPU session for ``blob`` (``threads``: intra-op threads, None = runtime default)."""
    ort = _require("onnxruntime")
    opts = ort.SessionOptions()
    if threads:
        opts.intra_op_num_threads = int(threads)
        opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    return ort.InferenceSession(blob, opts, providers=["CPUExecutionProvider"])


def run_session(sess, batch: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Run a session on a model batch (``collate``'s dict); outputs by name."""
    names = [o.name for o in sess.get_outputs()]
    return dict(zip(names, sess.run(names, {k: np.asarray(batch[k]) for k in INPUT_NAMES})))


def jax_outputs(model: VisemeModel, batch: Mapping[str, np.ndarray], adapter: str | None = None) -> dict[str, np.ndarray]:
    """The JAX model's outputs on the same batch, named as the ONNX graph names them."""
    out = jax.tree.map(np.asarray, model._apply(model.state_for(adapter), dict(batch)))
    named = {"articulation": out["articulation"], "blendshapes": out["blendshapes"], "latent": out["latent"]}
    named.update({f"visemes_{k}": v for k, v in out["visemes"].items()})
    return named


def curve_errors(a: Mapping[str, np.ndarray], b: Mapping[str, np.ndarray], mask: np.ndarray) -> dict[str, float]:
    """What a user sees: max/mean |difference| of the curves and viseme probabilities over real frames
    (``mask``), and the share of frames with the same most likely viseme."""
    m = np.asarray(mask, bool)
    diffs, agree = [], []
    for name in a:
        x, y = np.asarray(a[name], np.float64)[m], np.asarray(b[name], np.float64)[m]
        if name.startswith("visemes_"):
            agree.append(x.argmax(-1) == y.argmax(-1))
            x, y = softmax(x), softmax(y)
        elif name == "latent":
            continue  # internal; checked by max_abs_error
        diffs.append(np.abs(x - y).reshape(len(x), -1))
    d = np.concatenate(diffs, axis=1)
    return {"max_abs": float(d.max()), "mean_abs": float(d.mean()),
            "viseme_agreement": float(np.concatenate(agree).mean()) if agree else 1.0}


def max_abs_error(a: Mapping[str, np.ndarray], b: Mapping[str, np.ndarray], mask: np.ndarray) -> float:
    """Largest difference over every raw output (logits and latent too) on real frames, in units of that
    output's own scale: absolute for outputs within [-1, 1] (every curve and probability), divided by the
    output's largest magnitude beyond that. float32 rounding in a sum of products grows with the size of
    the terms, so a logit near 0 beside logits of 8 carries the rounding of 8 (1.8e-4 seen at 1e-5 of
    scale); an element-wise relative error would blame it on the small value."""
    m = np.asarray(mask, bool)
    worst = 0.0
    for k in a:
        ref, got = np.asarray(a[k], np.float64)[m], np.asarray(b[k], np.float64)[m]
        if ref.size:
            worst = max(worst, float(np.abs(ref - got).max() / max(1.0, float(np.abs(ref).max()))))
    return worst


def quantize_int8(blob: bytes) -> bytes:
    """onnxruntime dynamic quantization: int8 weights for MatMul/Gemm, activations quantized per call."""
    _require("onnxruntime")
    from onnxruntime.quantization import QuantType, quantize_dynamic  # optional extra

    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "f32.onnx", Path(tmp) / "int8.onnx"
        src.write_bytes(blob)
        with _quiet():
            quantize_dynamic(src, dst, weight_type=QuantType.QInt8)
        return dst.read_bytes()


def heldout_inputs(model: VisemeModel, n_per_lang: int = 2, langs: Sequence[str] | None = None,
                   seed: int = 321) -> list[UtteranceInputs]:
    """espeak-ng speech of sentences in languages the model's benchmark holds out (never trained on),
    timed and encoded with audio features, at 30 fps."""
    langs = tuple(langs) if langs is not None else HELDOUT_LANGS[:4]
    examples = teacher_examples(langs, n_per_lang, model.vocab, seed=seed, fps_choices=(30.0,))
    if not examples:
        raise ModelError(f"espeak-ng produced no held-out sentences for {list(langs)}; cannot run the int8 gate.")
    return [e.inputs for e in examples]


@dataclass(frozen=True)
class GateReport:
    """int8 against float32 on held-out sentences; ``passed`` when all three limits hold."""

    max_abs: float
    mean_abs: float
    viseme_agreement: float
    n_frames: int
    max_abs_limit: float = INT8_MAX_ABS
    mean_abs_limit: float = INT8_MEAN_ABS
    agreement_limit: float = INT8_MIN_AGREEMENT

    @property
    def passed(self) -> bool:
        return (self.max_abs <= self.max_abs_limit and self.mean_abs <= self.mean_abs_limit
                and self.viseme_agreement >= self.agreement_limit)

    def describe(self) -> str:
        return (f"max |int8 - f32| {self.max_abs:.4f} (limit {self.max_abs_limit}), mean {self.mean_abs:.5f} "
                f"(limit {self.mean_abs_limit}), viseme agreement {100 * self.viseme_agreement:.1f}% "
                f"(limit {100 * self.agreement_limit:.0f}%) over {self.n_frames} held-out frames")

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "passed": self.passed}


def batches(items: Sequence[UtteranceInputs], size: int = 4) -> Iterable[dict[str, np.ndarray]]:
    for i in range(0, len(items), size):
        yield collate(items[i : i + size])


def int8_gate(f32_session, int8_session, items: Sequence[UtteranceInputs], **limits: float) -> GateReport:
    """Compare the two sessions' curves on ``items`` (see :class:`GateReport`)."""
    maxes, sums, agree, n = [], 0.0, 0.0, 0
    for batch in batches(items):
        e = curve_errors(run_session(f32_session, batch), run_session(int8_session, batch), batch["frame_mask"])
        frames = int(batch["frame_mask"].sum())
        maxes.append(e["max_abs"])
        sums += e["mean_abs"] * frames
        agree += e["viseme_agreement"] * frames
        n += frames
    return GateReport(max(maxes), sums / n, agree / n, n, **limits)


def sidecar(model: VisemeModel, *, int8: bool, gate: GateReport | None = None) -> dict[str, Any]:
    """What a host needs besides the graph: input/output layout, vocabulary with phone features,
    language ids, channel names, timing limits."""
    layout = batch_layout(1, 1, 1)
    inputs = {k: {"shape": [a if a is not None else layout[k][0][i] for i, a in enumerate(_AXES[k])],
                  "dtype": np.dtype(layout[k][1]).name} for k in INPUT_NAMES}
    channels = {"articulation": list(model.cfg.articulation), "blendshapes": list(model.cfg.blendshapes),
                "latent": [f"z{i}" for i in range(model.cfg.latent_dim)],
                **{f"visemes_{n}": list(c) for n, c in model.cfg.viseme_sets}}
    outputs = {k: {"shape": ["B", "T", len(v)], "dtype": "float32", "channels": v} for k, v in channels.items()}
    vocab = model.vocab
    return {
        "format": ONNX_FORMAT, "format_version": ONNX_FORMAT_VERSION, "fingerprint": model.fingerprint,
        "precision": "int8" if int8 else "float32", "int8_gate": gate.to_dict() if gate else None,
        "converter": {p: _version(p) for p in ("jax2onnx", "onnx", "onnxruntime", "jax")},
        "inputs": inputs, "outputs": outputs,
        "frame_multiple": model.cfg.attn_block, "max_fps": model.cfg.max_fps,
        "lookahead_s": model.cfg.lookahead_s, "history_s": model.cfg.history_s,
        "phones": list(vocab.phones),
        "phone_features": [[round(float(x), 6) for x in phone_features(p)] for p in vocab.phones],
        "langs": list(vocab.langs), "dialects": list(vocab.dialects),
        "config": model.cfg.to_dict(),
    }


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


@dataclass(frozen=True)
class OnnxExport:
    """What :func:`save_onnx` wrote and measured."""

    path: Path
    sidecar_path: Path
    size_bytes: int
    f32_max_error: float
    gate: GateReport | None


def save_onnx(model: VisemeModel, path: str | os.PathLike, *, int8: bool = False, overwrite: bool = False,
              opset: int = DEFAULT_OPSET, check_items: Sequence[UtteranceInputs] | None = None) -> OnnxExport:
    """Convert, check against JAX (float32 within :data:`F32_TOLERANCE` on ``check_items``, default:
    held-out espeak-ng sentences) and write ``path`` + ``path.with_suffix('.json')``. With ``int8``,
    write the quantized graph only if it passes the gate; otherwise raise ModelError and write nothing."""
    path = Path(path)
    if path.suffix != ".onnx":
        raise InputError(f"Give the ONNX file a .onnx name, got {path.name}.")
    for p in (path, path.with_suffix(".json")):
        if p.exists() and not overwrite:
            raise InputError(f"{p} exists; pass overwrite (--overwrite) to replace it.")
    blob = to_onnx(model, opset=opset)
    items = list(check_items) if check_items is not None else heldout_inputs(model)
    f32 = session(blob)
    err = 0.0
    for batch in batches(items):
        err = max(err, max_abs_error(jax_outputs(model, batch), run_session(f32, batch), batch["frame_mask"]))
    if not err <= F32_TOLERANCE:
        raise ModelError(f"The ONNX graph differs from the JAX model by {err:.2e} (> {F32_TOLERANCE}); "
                         "not written. Report this with your jax2onnx and onnxruntime versions.")
    gate = None
    if int8:
        blob = quantize_int8(blob)
        gate = int8_gate(f32, session(blob), items)
        if not gate.passed:
            raise ModelError(f"The int8 model fails its accuracy gate ({gate.describe()}); not written. "
                             "Export float32 (without --int8) instead.")
    side = sidecar(model, int8=int8, gate=gate)
    side["f32_max_error_vs_jax"] = err
    side_path = atomic_write_text(path.with_suffix(".json"), json.dumps(side, indent=1, ensure_ascii=False),
                                  overwrite=True)
    atomic_write_bytes(path, blob, overwrite=True)
    return OnnxExport(path, Path(side_path), len(blob), err, gate)


def latency_ms(sess, batch: Mapping[str, np.ndarray], repeat: int = 30) -> tuple[float, float]:
    """(p50, p95) milliseconds of one session call on ``batch`` (after a warm-up call)."""
    run_session(sess, batch)
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        run_session(sess, batch)
        times.append((time.perf_counter() - t0) * 1e3)
    return float(np.percentile(times, 50)), float(np.percentile(times, 95))
