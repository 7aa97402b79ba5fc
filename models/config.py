"""Frozen model configuration with presets.

The config is data: it is written next to every checkpoint as JSON (``to_dict``/``from_dict``) and a
checkpoint is only ever loaded with the config it was saved with.
"""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass
from typing import Any, Mapping

from visemes.mouth.arkit import ARKIT_MOUTH
from visemes.core.articulation import ARTICULATION_PARAMS
from visemes.core.errors import ModelError
from visemes.core.vocabulary import OCULUS_15

#: Largest size a config may ask for: a sidecar claiming a million layers must fail before the network
#: is built, not after minutes of building it.
MAX_SIZE = 1 << 16
MAX_LAYERS = 256


def _positive_ints(cfg: Any, names: tuple[str, ...], maximum: int = MAX_SIZE) -> None:
    for name in names:
        value = getattr(cfg, name)
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= maximum:
            raise ModelError(f"Model config {name}={value!r} must be a whole number from 1 to {maximum}.")


def _checked_value(name: str, default: Any, value: Any) -> Any:
    """``value`` of a config field read from JSON, in the type of the field's default (or ModelError)."""
    if isinstance(default, bool) or isinstance(default, int):
        ok = isinstance(value, int) and not isinstance(value, bool)
        want = "a whole number"
    elif isinstance(default, float):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        want = "a finite number"
    elif isinstance(default, str):
        ok, want = isinstance(value, str) and bool(value), "a non-empty string"
    elif name == "viseme_sets":
        ok = isinstance(value, (list, tuple)) and bool(value) and all(
            isinstance(item, (list, tuple)) and len(item) == 2 and isinstance(item[0], str) and _names(item[1])
            for item in value)
        want = "a list of [set name, [class names]] pairs"
    else:  # tuple of names (articulation, blendshapes)
        ok, want = _names(value), "a list of names"
    if not ok:
        shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "..."
        raise ModelError(f"Model config {name}={shown} must be {want}; the sidecar JSON is damaged.")
    return value


def _names(value: Any) -> bool:
    return isinstance(value, (list, tuple)) and bool(value) and all(isinstance(v, str) and v for v in value)


@dataclass(frozen=True)
class ModelConfig:
    """Architecture hyper-parameters of the viseme transformer.

    Attention is *local in time*: every layer attends ``left_context_s`` seconds back; only the first
    layer may look ``lookahead_s`` seconds ahead. So the model's whole future context is
    ``lookahead_s`` and streaming with that lookahead reproduces offline output.
    """

    name: str = "base"
    n_phones: int = 512            # size of the phone-id vocabulary (from models/weights/phone_vocab.json)
    n_features: int = 24           # phonological feature vector length
    n_langs: int = 64
    n_dialects: int = 64
    n_tones: int = 12
    n_stress: int = 4
    d_phone: int = 64
    d_model: int = 128
    n_layers: int = 4
    n_heads: int = 4
    mlp_ratio: int = 2
    latent_dim: int = 16
    decoder_hidden: int = 64
    left_context_s: float = 0.6
    lookahead_s: float = 0.08
    max_fps: float = 60.0          # attention windows are sized (in frames) for this rate
    attn_block: int = 16           # local attention works on blocks of this many frames
    rope_unit_s: float = 0.01      # rotary positions count time in these units (frame-rate independent)
    n_audio: int = 2               # loudness, pitch (plus a presence flag added internally)
    dropout: float = 0.1
    articulation: tuple[str, ...] = ARTICULATION_PARAMS
    blendshapes: tuple[str, ...] = ARKIT_MOUTH
    viseme_sets: tuple[tuple[str, tuple[str, ...]], ...] = (("oculus", OCULUS_15),)

    def __post_init__(self) -> None:
        _positive_ints(self, ("n_phones", "n_features", "n_langs", "n_dialects", "n_tones", "n_stress", "d_phone",
                              "d_model", "n_heads", "mlp_ratio", "latent_dim", "decoder_hidden", "attn_block",
                              "n_audio"))
        _positive_ints(self, ("n_layers",), MAX_LAYERS)
        for name in ("left_context_s", "lookahead_s", "max_fps", "rope_unit_s", "dropout"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ModelError(f"Model config {name}={value!r} must be a finite number.")
        if not (self.max_fps > 0 and self.rope_unit_s > 0 and 0 <= self.dropout < 1):
            raise ModelError("Model config needs max_fps > 0, rope_unit_s > 0 and 0 <= dropout < 1.")
        if self.d_model % self.n_heads or (self.d_model // self.n_heads) % 2:
            raise ModelError(
                f"d_model={self.d_model} must split into {self.n_heads} heads of even size; adjust the config."
            )
        if self.lookahead_s < 0 or self.left_context_s <= 0:
            raise ModelError("lookahead_s must be >= 0 and left_context_s > 0 seconds.")
        object.__setattr__(self, "articulation", tuple(self.articulation))
        object.__setattr__(self, "blendshapes", tuple(self.blendshapes))
        object.__setattr__(
            self, "viseme_sets", tuple((str(n), tuple(c)) for n, c in self.viseme_sets)
        )

    @property
    def head_dim(self) -> int:
        return self.d_model // self.n_heads

    @property
    def history_s(self) -> float:
        """How far back any output frame can see (receptive field over all layers)."""
        return self.left_context_s * self.n_layers

    def viseme_classes(self, set_name: str) -> tuple[str, ...]:
        for name, classes in self.viseme_sets:
            if name == set_name:
                return classes
        raise ModelError(
            f"This model has no viseme head {set_name!r}; it has {[n for n, _ in self.viseme_sets]}."
        )

    def replace(self, **changes: Any) -> "ModelConfig":
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["articulation"] = list(self.articulation)
        d["blendshapes"] = list(self.blendshapes)
        d["viseme_sets"] = [[n, list(c)] for n, c in self.viseme_sets]
        return d

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "ModelConfig":
        """A config from its JSON: every key known, every value of its field's type (or ModelError)."""
        if not isinstance(data, Mapping):
            raise ModelError("The model config must be a JSON object; the sidecar JSON is damaged.")
        defaults = {f.name: f.default for f in dataclasses.fields(cls)}
        unknown = set(data) - set(defaults)
        if unknown:
            raise ModelError(
                f"Model config has unknown keys {sorted(map(str, unknown))}; it was written by a newer visemes. "
                "Upgrade."
            )
        d = {name: _checked_value(name, defaults[name], value) for name, value in data.items()}
        if "viseme_sets" in d:
            d["viseme_sets"] = tuple((n, tuple(c)) for n, c in d["viseme_sets"])
        for key in ("articulation", "blendshapes"):
            if key in d:
                d[key] = tuple(d[key])
        return cls(**d)

    # --- presets -------------------------------------------------------------------------------
    @classmethod
    def tiny(cls, **changes: Any) -> "ModelConfig":
        """For tests: compiles in seconds."""
        base = dict(
            name="tiny", d_phone=16, d_model=32, n_layers=2, n_heads=2, mlp_ratio=2, latent_dim=8,
            decoder_hidden=16, left_context_s=0.3, dropout=0.0,
        )
        base.update(changes)
        return cls(**base)

    @classmethod
    def base(cls, **changes: Any) -> "ModelConfig":
        """The shipped model: small enough to train in ~15 min on 2 CPU cores and run 10 s in < 10 ms."""
        return cls(**{"name": "base", "n_layers": 3, "left_context_s": 0.5, **changes})

    @classmethod
    def preset(cls, name: str, **changes: Any) -> "ModelConfig":
        presets = {"tiny": cls.tiny, "base": cls.base}
        if name not in presets:
            raise ModelError(f"Unknown model preset {name!r}; choose one of {sorted(presets)}.")
        return presets[name](**changes)


@dataclass(frozen=True)
class LoRAConfig:
    """Low-rank adapter settings; ``targets`` are regular expressions matched (fully) against module
    paths such as ``layers.0.attn.q`` or ``layers.3.mlp.up``."""

    rank: int = 4
    alpha: float = 8.0
    targets: tuple[str, ...] = (
        r"layers\.\d+\.attn\.(q|k|v|o)", r"layers\.\d+\.mlp\.(up|down)",
        # the latent projection and the curve decoders: a dialect's mouth targets live there too
        r"to_latent", r"(articulation|blendshapes)\.(hidden|out)",
    )

    def __post_init__(self) -> None:
        if isinstance(self.rank, bool) or not isinstance(self.rank, int) or not 1 <= self.rank <= MAX_SIZE:
            raise ModelError(f"LoRA rank must be a whole number from 1 to {MAX_SIZE}, got {self.rank!r}.")
        if isinstance(self.alpha, bool) or not isinstance(self.alpha, (int, float)) or not math.isfinite(self.alpha):
            raise ModelError(f"LoRA alpha must be a finite number, got {self.alpha!r}.")
        targets = self.targets
        if isinstance(targets, str) or not isinstance(targets, (list, tuple)) or not targets:
            raise ModelError(f"LoRA targets must be a list of layer patterns, got {targets!r}.")
        for target in targets:
            if not isinstance(target, str):
                raise ModelError(f"LoRA target {target!r} must be a regular expression string.")
            try:
                re.compile(target)
            except re.error as exc:
                raise ModelError(f"LoRA target {target!r} is not a valid regular expression ({exc}).") from None
        object.__setattr__(self, "targets", tuple(targets))

    @property
    def scale(self) -> float:
        return self.alpha / self.rank

    def to_dict(self) -> dict[str, Any]:
        return {"rank": self.rank, "alpha": self.alpha, "targets": list(self.targets)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "LoRAConfig":
        if not isinstance(data, Mapping):
            raise ModelError("The adapter settings must be a JSON object; the adapter's JSON is damaged.")
        missing = [k for k in ("rank", "alpha", "targets") if k not in data]
        if missing:
            raise ModelError(f"The adapter's JSON lacks {missing}; re-export the adapter (`visemes finetune`).")
        return cls(data["rank"], data["alpha"], data["targets"])
