"""Phonological feature vectors for phones, so that unseen phones embed near similar seen ones.

The contract is ``lang_packs.features.phone_features``; until that lands (or if it is absent) the same
thing is computed from panphon here. Both give 24 panphon features in {-1, 0, +1} (float32).
"""

from __future__ import annotations

import functools

import numpy as np

N_FEATURES = 24


@functools.lru_cache(maxsize=1)
def _feature_table():  # panphon's table takes ~0.5 s to build: build once, on first use
    import panphon

    return panphon.FeatureTable()


@functools.lru_cache(maxsize=1)
def _packs_function():
    try:
        from lang_packs.features import N_FEATURES as packs_n, phone_features
    except ImportError:
        return None
    return phone_features if packs_n == N_FEATURES else None


def panphon_features(symbol: str) -> np.ndarray:
    """Mean panphon vector of the segments in ``symbol`` (a diphthong averages its parts); zeros if
    panphon recognises nothing (the model then relies on the phone id or UNK)."""
    table = _feature_table()
    vectors = table.word_to_vector_list(symbol, numeric=True)
    if not vectors:
        return np.zeros(N_FEATURES, np.float32)
    return np.asarray(vectors, np.float32).mean(axis=0)


@functools.lru_cache(maxsize=4096)
def _cached(symbol: str) -> np.ndarray:
    fn = _packs_function()
    vec = np.asarray(fn(symbol), np.float32) if fn is not None else panphon_features(symbol)
    vec = vec.reshape(N_FEATURES)
    vec.setflags(write=False)
    return vec


def phone_features(symbol: str) -> np.ndarray:
    """float32[N_FEATURES] for an IPA phone symbol (read-only array)."""
    return _cached(symbol)
