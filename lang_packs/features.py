"""Phonological feature vectors for any IPA phone (panphon), with fixes for affricates and odd symbols."""

from __future__ import annotations

import functools
import unicodedata

import numpy as np

#: panphon's 24 features, in its order; `phone_features` vectors follow it.
FEATURE_NAMES: tuple[str, ...] = (
    "syl", "son", "cons", "cont", "delrel", "lat", "nas", "strid", "voi", "sg", "cg", "ant",
    "cor", "distr", "lab", "hi", "lo", "back", "round", "velaric", "tense", "long", "hitone", "hireg",
)
N_FEATURES = len(FEATURE_NAMES)
_IDX = {name: i for i, name in enumerate(FEATURE_NAMES)}

# Symbols panphon does not know, mapped to ones it does (why: espeak and common IPA spellings).
_ALIASES = {"g": "ɡ", "ⱱ": "v̆", "ʜ": "ħ", "ʢ": "ʕ", "ʡ": "ʔ", "ɚ": "ə˞", "ɝ": "ɜ˞", "ʧ": "tʃ", "ʤ": "dʒ", "ʦ": "ts", "ʣ": "dz", "ɫ": "lˠ"}
_TIES = ("\u0361", "\u035c")


@functools.lru_cache(maxsize=1)
def _table():  # panphon takes ~1 s to load, so load once per process and only when needed
    import panphon

    return panphon.FeatureTable()


def _segments(symbol: str) -> list[list[int]]:
    return _table().word_to_vector_list(symbol, numeric=True)


def _merge_affricate(stop: list[int], fric: list[int]) -> list[int] | None:
    """panphon splits `tʃ` into t + ʃ; an affricate is the fricative's place with -cont +delrel."""
    if stop[_IDX["cont"]] == -1 and stop[_IDX["son"]] == -1 and fric[_IDX["cont"]] == 1 and fric[_IDX["son"]] == -1:
        merged = list(fric)
        merged[_IDX["cont"]] = -1
        merged[_IDX["delrel"]] = 1
        return merged
    return None


@functools.lru_cache(maxsize=4096)
def _features(symbol: str) -> tuple[float, ...]:
    symbol = unicodedata.normalize("NFD", symbol)
    for tie in _TIES:
        symbol = symbol.replace(tie, "")
    symbol = "".join(_ALIASES.get(ch, ch) for ch in symbol) if symbol not in _ALIASES else _ALIASES[symbol]
    segs = _segments(symbol)
    if not segs:
        # unknown as a whole: drop combining marks and modifiers one by one from the end
        base = symbol
        while base and not segs:
            base = base[:-1]
            segs = _segments(base) if base else []
    if not segs:
        return (0.0,) * N_FEATURES
    vec = segs[0]
    if len(segs) >= 2:
        merged = _merge_affricate(segs[0], segs[1])
        if merged is not None:
            vec = merged
            # carry aspiration / other laryngeal marks of the fricative part (`tʃʰ`)
    return tuple(float(v) for v in vec)


def phone_features(symbol: str) -> np.ndarray:
    """float32 vector of length N_FEATURES (+1/-1/0 per panphon feature); zeros for unknown symbols."""
    return np.asarray(_features(symbol), dtype=np.float32)


def feature(symbol: str, name: str) -> float:
    """One named feature of ``symbol`` (+1, -1 or 0)."""
    return _features(symbol)[_IDX[name]]


def is_syllabic(symbol: str) -> bool:
    return feature(symbol, "syl") > 0
