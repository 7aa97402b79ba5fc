"""The model's phone input: *phonological* feature vectors, so that unseen phones embed near similar seen ones.

One small function the model code calls; it points at the language packs' feature table
(``visemes.lang_packs.features.phone_features``: 24 panphon features in {-1, 0, +1}, with affricate fixes).
"""

from __future__ import annotations

import functools

import numpy as np

from visemes.lang_packs.features import N_FEATURES
from visemes.lang_packs.features import phone_features as _packs_phone_features

__all__ = ["N_FEATURES", "phone_features"]


@functools.lru_cache(maxsize=8192)
def _cached(symbol: str) -> np.ndarray:
    vec = np.asarray(_packs_phone_features(symbol), np.float32).reshape(N_FEATURES)
    vec.setflags(write=False)
    return vec


def phone_features(symbol: str) -> np.ndarray:
    """float32[N_FEATURES] for an IPA phone symbol (read-only array, cached)."""
    return _cached(symbol)
