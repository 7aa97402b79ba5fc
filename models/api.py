"""Inference: :class:`VisemeModel` wraps the network with its config, vocabulary, fingerprint and adapters.

``predict`` pads to length buckets so varied inputs reuse a few compiled functions; the weights are an
*argument* of the compiled function, so switching adapters (merged into the base weights once and
cached) costs no recompilation and no per-frame overhead.
"""

from __future__ import annotations

import math
import os
from functools import partial
from importlib import resources
from pathlib import Path
from typing import Any, Mapping, Sequence

import jax
import numpy as np
from flax import nnx

from visemes.core.curves import FrameCurves, MouthAnimation, check_fps, frame_count
from visemes.core.errors import AdapterMismatchError, InputError, ModelError
from visemes.core.timeline import PHONES, Alignment, Tier
from visemes.core.vocabulary import VISEME_SETS
from visemes.lang_packs import LanguagePack, PhoneLookup
from visemes.mouth.closure import TAPER as CLOSURE_TAPER, close_bilabials
from visemes.mouth.coarticulation import CoarticulationParams, params_for
from visemes.mouth.set_weights import weights_in_set

from visemes.models import checkpoint, lora
from visemes.models.audio_features import audio_features
from visemes.models.config import ModelConfig
from visemes.models.incremental import IncrementalRunner
from visemes.models.inputs import FRAME_BUCKETS, UtteranceInputs, batch_layout, collate, encode, window
from visemes.models.network import VisemeTransformer, abstract_model
from visemes.models.vocab import Vocab

MODEL_FORMAT = "visemes.model"
SHIPPED_WEIGHTS = "base.safetensors"
#: Longest single call; longer utterances run in overlapping windows (exact, see ``_run_long``).
MAX_WINDOW_FRAMES = FRAME_BUCKETS[-1]


def _apply(graphdef, state, batch):
    return nnx.merge(graphdef, state)(batch)


def batch_spec(batch_size: int, n_frames: int, n_phones: int) -> dict[str, jax.ShapeDtypeStruct]:
    """:func:`visemes.models.inputs.batch_layout` as JAX abstract arrays (to lower and compile a bucket)."""
    return {k: jax.ShapeDtypeStruct(s, d) for k, (s, d) in batch_layout(batch_size, n_frames, n_phones).items()}


def softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


class VisemeModel:
    """A loaded model, ready to predict. Build with :func:`load` or :meth:`from_module`."""

    def __init__(self, module: VisemeTransformer, vocab: Vocab, meta: Mapping[str, Any] | None = None):
        module.eval()
        self.module = module
        self.cfg: ModelConfig = module.cfg
        self.vocab = vocab
        self.meta = dict(meta or {})
        self.graphdef, self._base_state = nnx.split(module)
        self.base_arrays = checkpoint.flat_params(module)
        self.fingerprint = checkpoint.fingerprint(self.base_arrays)
        self.adapters: dict[str, lora.Adapter] = {}
        self._states: dict[str | None, Any] = {None: self._base_state}
        self._merged: str | None = None
        self._apply = jax.jit(partial(_apply, self.graphdef))
        self._compiled: dict[tuple, Any] = {}
        self._incremental: IncrementalRunner | None = None
        self.max_window_frames = MAX_WINDOW_FRAMES

    # --- construction / persistence ------------------------------------------------------------
    @classmethod
    def from_module(cls, module: VisemeTransformer, vocab: Vocab, meta: Mapping[str, Any] | None = None) -> "VisemeModel":
        return cls(module, vocab, meta)

    @classmethod
    def load(cls, path: str | os.PathLike | None = None) -> "VisemeModel":
        if path is None:
            path = Path(str(resources.files("visemes.models").joinpath("weights", SHIPPED_WEIGHTS)))
            if not path.is_file():
                raise ModelError(
                    f"The shipped model weights are missing ({path}); reinstall visemes or train them with "
                    "`python -m visemes.models.recipes.train_base`."
                )
        arrays, meta = checkpoint.load_tensors(path, MODEL_FORMAT)
        sidecar = checkpoint.sidecar_path(path)
        missing = [k for k in ("config", "vocab") if k not in meta]
        if missing:
            raise ModelError(f"{sidecar} lacks {missing}; it is not a complete model file. Re-export the weights.")
        try:
            cfg = ModelConfig.from_dict(meta["config"])
            vocab = Vocab.from_dict(meta["vocab"])
            module = abstract_model(cfg)
            checkpoint.assign(module, arrays)
        except ModelError as exc:
            raise ModelError(f"{sidecar}: {exc}") from None
        if meta.get("meta") is not None and not isinstance(meta["meta"], dict):
            raise ModelError(f"{sidecar}: 'meta' must be a JSON object; the file is damaged.")
        model = cls(module, vocab, meta.get("meta"))
        if meta.get("fingerprint") not in (None, model.fingerprint):
            raise ModelError(f"{path}: weights do not match the fingerprint in their JSON; the file is damaged.")
        return model

    def save(self, path: str | os.PathLike, overwrite: bool = False, meta: Mapping[str, Any] | None = None) -> Path:
        doc = {
            "format": MODEL_FORMAT, "format_version": checkpoint.MODEL_FORMAT_VERSION,
            "fingerprint": self.fingerprint, "config": self.cfg.to_dict(), "vocab": self.vocab.to_dict(),
            "meta": {**self.meta, **dict(meta or {})},
        }
        return checkpoint.save_tensors(path, self.base_arrays, doc, overwrite=overwrite)

    @property
    def n_params(self) -> int:
        return int(sum(a.size for a in self.base_arrays.values()))

    # --- adapters ---------------------------------------------------------------------------------
    def add_adapter(self, adapter: lora.Adapter) -> str:
        if adapter.base_fingerprint != self.fingerprint:
            raise AdapterMismatchError(
                f"Adapter {adapter.name!r} was trained for base model {adapter.base_fingerprint}, but this model "
                f"is {self.fingerprint}; fine-tune the adapter again on this base (`visemes finetune`)."
            )
        # the fingerprint is only a claim: the shapes must fit too, or merging fails deep in numpy
        lora.check_fits(self.base_arrays, adapter.arrays, adapter.lora.rank, f"Adapter {adapter.name!r}")
        self.adapters[adapter.name] = adapter
        self._states.pop(adapter.name, None)
        return adapter.name

    def load_adapter(self, path: str | os.PathLike) -> str:
        return self.add_adapter(lora.Adapter.load(path))

    def state_for(self, adapter: str | None):
        """Weights with ``adapter`` merged in (cached), or the base weights."""
        if adapter not in self._states:
            if adapter not in self.adapters:
                raise InputError(f"No adapter {adapter!r} is loaded; loaded: {sorted(self.adapters)}.")
            a = self.adapters[adapter]
            merged = lora.merge(self.base_arrays, a.arrays, a.lora.scale)
            self._states[adapter] = self._state_from(merged)
        return self._states[adapter]

    def _state_from(self, arrays: Mapping[str, np.ndarray]):
        flat = []
        for key, var in nnx.to_flat_state(self._base_state):
            name = checkpoint.path_name(key)
            flat.append((key, var.replace(jax.numpy.asarray(arrays[name])) if name in arrays else var))
        return nnx.from_flat_state(flat)

    def merge_adapter(self, name: str) -> None:
        """Make ``name`` the default for ``predict`` with its weights merged into the base (no overhead)."""
        self.state_for(name)
        self._merged = name

    def unmerge_adapter(self) -> None:
        """Back to the base weights, bit for bit (the base arrays are never modified)."""
        self._merged = None

    def active_arrays(self) -> dict[str, np.ndarray]:
        return checkpoint.flatten(nnx.state(nnx.merge(self.graphdef, self.state_for(self._merged)), nnx.Param))

    # --- running ----------------------------------------------------------------------------------
    def run(self, items: Sequence[UtteranceInputs], adapter: str | None = None, *,
            n_frames: int | None = None, n_phones: int | None = None) -> dict[str, np.ndarray]:
        """One padded call on a batch; returns numpy outputs [B, T_bucket, ...]."""
        batch = collate(items, n_frames, n_phones)
        state = self.state_for(adapter if adapter is not None else self._merged)
        key = tuple((k, v.shape) for k, v in sorted(batch.items()))
        fn = self._compiled.get(key, self._apply)
        out = fn(state, batch)
        return jax.tree.map(np.asarray, out)

    def compile(self, batch_size: int, n_frames: int, n_phones: int) -> Any:
        """AOT-compile (``jit.lower().compile()``) the bucket (batch_size, n_frames, n_phones); later calls
        with that shape use it."""
        batch = batch_spec(batch_size, n_frames, n_phones)
        compiled = self._apply.lower(self._base_state, batch).compile()
        self._compiled[tuple((k, batch[k].shape) for k in sorted(batch))] = compiled
        return compiled

    def incremental(self, adapter: str | None = None) -> IncrementalRunner:
        """The streaming step (:mod:`visemes.models.incremental`) with ``adapter``'s weights; the compiled
        functions are shared by every stream of this model."""
        if self._incremental is None:
            self._incremental = IncrementalRunner(self.graphdef, self._base_state)
        state = self.state_for(adapter)
        return self._incremental if state is self._base_state else self._incremental.with_state(state)

    def encode(self, alignment: Alignment, fps: float = 30.0, *, lang: str | None = None,
               audio: np.ndarray | None = None, sample_rate: int | None = None) -> UtteranceInputs:
        fps = check_fps(fps)
        if fps > self.cfg.max_fps + 1e-9:
            raise InputError(f"This model runs at up to {self.cfg.max_fps:g} fps; ask for a lower frame rate and resample.")
        feats = None
        if audio is not None:
            if sample_rate is None:
                raise InputError("Give sample_rate with the audio array.")
            times = np.arange(frame_count(alignment.duration, fps)) / fps
            feats = audio_features(audio, sample_rate, times)
        return encode(alignment, self.vocab, fps, lang=lang, audio_features=feats)

    def predict_inputs(self, u: UtteranceInputs, adapter: str | None = None) -> dict[str, np.ndarray]:
        """Unpadded outputs for one utterance; long ones run in overlapping windows."""
        if u.n_frames <= self.max_window_frames:
            out = self.run([u], adapter)
            return jax.tree.map(lambda a: a[0, : u.n_frames], out)
        return self._run_long(u, adapter)

    def context_frames(self, fps: float) -> tuple[int, int]:
        """(history, lookahead) frames that fully cover the model's receptive field at ``fps``."""
        return (int(math.ceil(self.cfg.history_s * fps)) + 1, int(math.ceil(self.cfg.lookahead_s * fps)) + 1)

    def _run_long(self, u: UtteranceInputs, adapter: str | None) -> dict[str, np.ndarray]:
        fps = 1.0 / float(u.frame_time[1] - u.frame_time[0])
        hist, look = self.context_frames(fps)
        chunk = self.max_window_frames - hist - look
        if chunk < 1:
            raise ModelError(f"max_window_frames={self.max_window_frames} is smaller than the model's context.")
        pieces = []
        for a in range(0, u.n_frames, chunk):
            b = min(a + chunk, u.n_frames)
            w0, w1 = max(0, a - hist), min(u.n_frames, b + look)
            out = self.run([window(u, w0, w1)], adapter, n_frames=self.max_window_frames)
            pieces.append(jax.tree.map(lambda x: x[0, a - w0 : b - w0], out))
        return jax.tree.map(lambda *xs: np.concatenate(xs, axis=0), *pieces)

    def to_animation(self, out: Mapping[str, Any], fps: float, viseme_set: str = "oculus",
                     adapter: str | None = None, start: float = 0.0, *, phones: Tier | None = None,
                     pack: PhoneLookup | None = None) -> MouthAnimation:
        """Network outputs as curves. A viseme set the model has no head for is made from the Oculus
        head by :func:`visemes.mouth.set_weights.weights_in_set` with the timed ``phones`` (and
        ``pack``), the same rule the coarticulation path uses. Every bilabial of ``phones`` is then
        closed (:func:`visemes.mouth.closure.close_bilabials`: lip contact, the set's bilabial viseme
        >= 0.95 and ARKit ``mouthClose >= jawOpen`` there), as the rules guarantee."""
        heads = [name for name, _ in self.cfg.viseme_sets]
        if viseme_set not in heads and (viseme_set not in VISEME_SETS or "oculus" not in heads):
            raise ModelError(f"Unknown viseme set {viseme_set!r}; choose one of {list(VISEME_SETS)}.")
        head = viseme_set if viseme_set in heads else "oculus"
        active = adapter if adapter is not None else self._merged
        source = f"model:{self.fingerprint}" + (f"+{active}" if active else "")
        meta = {"model": self.cfg.name, "fingerprint": self.fingerprint, "adapter": active}
        probs = softmax(np.asarray(out["visemes"][head], np.float64))
        visemes = FrameCurves(fps, self.cfg.viseme_classes(head), probs, start, meta)
        if head != viseme_set:
            visemes = weights_in_set(visemes, phones if phones is not None else Tier(PHONES, ()), pack, viseme_set)
        anim = MouthAnimation(
            FrameCurves(fps, self.cfg.articulation, out["articulation"], start, meta),
            FrameCurves(fps, self.cfg.blendshapes, out["blendshapes"], start, meta),
            visemes,
            source=source,
        )
        # closures close as on the rules' path: lip contact at every bilabial, the bilabial viseme and
        # ARKit mouthClose with it (frame by frame from the phones, so streaming equals offline)
        params = params_for(pack) if pack is not None else CoarticulationParams()
        return close_bilabials(anim, phones if phones is not None else Tier(PHONES, ()), pack, viseme_set, params,
                               max_lead=self.cfg.lookahead_s - CLOSURE_TAPER)

    def predict(self, alignment: Alignment, fps: float = 30.0, adapter: str | None = None,
                pack: LanguagePack | None = None, *,
                audio: np.ndarray | None = None, sample_rate: int | None = None,
                viseme_set: str = "oculus") -> MouthAnimation:
        """Mouth animation for a timed alignment (``phones`` tier) at ``fps``.

        ``adapter`` picks a loaded dialect adapter for this utterance; ``pack`` (a language pack) supplies
        the language when ``visemes.alignment.meta`` has none; ``audio`` (+ ``sample_rate``) adds loudness/pitch.
        """
        lang = alignment.lang or (pack.code if pack is not None else None)
        u = self.encode(alignment, fps, lang=lang, audio=audio, sample_rate=sample_rate)
        out = self.predict_inputs(u, adapter)
        return self.to_animation(out, fps, viseme_set, adapter, phones=alignment.phones, pack=pack)



def load(path: str | os.PathLike | None = None) -> VisemeModel:
    """The shipped base model (``None``) or a saved one (``.safetensors`` with its ``.json``)."""
    return VisemeModel.load(path)


def check_model(path: str | os.PathLike | None = None, adapter: str | os.PathLike | None = None) -> str:
    """Load the model (and ``adapter``) once to check them up front, e.g. before a batch starts many
    workers; raises :class:`ModelError` naming the file. Returns the model's fingerprint."""
    model = VisemeModel.load(path)
    if adapter is not None:
        model.load_adapter(adapter)
    return model.fingerprint
