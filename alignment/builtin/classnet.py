"""The audio-only class network: a small MLP from a window of feature frames to the free loop's keys.

The loop's single-frame diagonal Gaussians (the aligner's class prior) tell broad classes apart poorly
without a transcript (35% of speech frames right on the VoxAngeles dev set); a network that sees
+-50 ms of context does much better. It is trained on synthetic espeak-ng speech only
(``make_classnet``) and used as a hybrid HMM's emissions: the scaled log posterior of each key minus
its log frequency in training (a scaled likelihood). Inference is numpy (two hidden layers of 256).
Weights: ``data/classnet.safetensors`` (float16 matrices; float32 in use).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np
from safetensors.numpy import load, save

from visemes.core.atomic import atomic_write_bytes
from visemes.core.errors import ModelError

#: frame offsets (5-ms frames) the network sees around each frame: +-50 ms, denser near the centre
CONTEXT = (-10, -8, -6, -4, -2, -1, 0, 1, 2, 4, 6, 8, 10)
FORMAT_VERSION = 1
NET_FILE = "data/classnet.safetensors"


@dataclass(frozen=True)
class ClassNet:
    keys: tuple[str, ...]  # output i is the Gaussian key keys[i] of the loop (c:<class>|<state>, clo, sil)
    mean: np.ndarray  # input normalisation per feature dimension
    std: np.ndarray
    layers: tuple[tuple[np.ndarray, np.ndarray], ...]  # (weight [in, out], bias [out]); ReLU between
    log_prior: np.ndarray  # log frequency of each key in the training frames
    context: tuple[int, ...] = CONTEXT  # frame offsets of the input window
    representatives: Mapping[str, str] = field(default_factory=dict)  # unit -> its most frequent phone

    @property
    def units(self) -> tuple[str, ...]:
        """The place-aware units (unitloop.py) the network knows, in key order."""
        return tuple(dict.fromkeys(k[2:].rsplit("|", 1)[0] for k in self.keys if k.startswith("u:")))

    def log_posteriors(self, feats: np.ndarray) -> np.ndarray:
        """[T, K] log posteriors of the keys for normalised features [T, D]."""
        pad = max(abs(o) for o in self.context)
        x = (np.pad(feats, ((pad, pad), (0, 0)), mode="edge") - self.mean) / self.std
        t = len(feats)
        h = np.concatenate([x[pad + o:pad + o + t] for o in self.context], axis=1).astype(np.float32)
        for w, b in self.layers[:-1]:
            h = np.maximum(h @ w + b, 0.0)
        z = h @ self.layers[-1][0] + self.layers[-1][1]
        z = z - z.max(axis=1, keepdims=True)
        return z - np.log(np.exp(z).sum(axis=1, keepdims=True))

    def scaled_loglik(self, feats: np.ndarray, prior_weight: float = 1.0) -> np.ndarray:
        """[T, K] hybrid emission scores: log posterior minus ``prior_weight`` x log training frequency."""
        return self.log_posteriors(feats) - prior_weight * self.log_prior[None, :]


def save_classnet(net: ClassNet, path: Path, source: str) -> None:
    tensors = {"mean": net.mean.astype(np.float32), "std": net.std.astype(np.float32),
               "log_prior": net.log_prior.astype(np.float32)}
    for i, (w, b) in enumerate(net.layers):
        tensors[f"w{i}"] = w.astype(np.float16)
        tensors[f"b{i}"] = b.astype(np.float32)
    meta = {"format": "visemes.classnet", "format_version": str(FORMAT_VERSION), "keys": json.dumps(net.keys),
            "context": json.dumps(net.context), "representatives": json.dumps(dict(net.representatives),
                                                                              ensure_ascii=False), "source": source}
    atomic_write_bytes(path, save(tensors, metadata=meta), overwrite=True)


def parse_classnet(data: bytes) -> ClassNet:
    header_len = int.from_bytes(data[:8], "little")
    meta = json.loads(data[8:8 + header_len]).get("__metadata__", {})
    if meta.get("format") != "visemes.classnet" or meta.get("format_version") != str(FORMAT_VERSION):
        raise ModelError(f"alignment/builtin/{NET_FILE} is not a supported class network; reinstall visemes.")
    t = load(data)
    n = sum(1 for k in t if k.startswith("w"))
    layers = tuple((t[f"w{i}"].astype(np.float32), t[f"b{i}"].astype(np.float32)) for i in range(n))
    return ClassNet(tuple(json.loads(meta["keys"])), t["mean"], t["std"], layers, t["log_prior"].astype(np.float64),
                    tuple(int(o) for o in json.loads(meta["context"])), json.loads(meta.get("representatives", "{}")))


@lru_cache(maxsize=1)
def load_classnet() -> ClassNet | None:
    """The shipped network, or None when the file is absent (the loop then uses the Gaussians alone)."""
    try:
        data = resources.files("visemes.alignment.builtin").joinpath(NET_FILE).read_bytes()
    except FileNotFoundError:
        return None
    return parse_classnet(data)
