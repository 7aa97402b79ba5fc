"""*Phonological* feature vectors for any IPA phone (panphon), with fixes for affricates and odd symbols.

"Features" means three things in this project: *acoustic* features of the audio for the aligner
(``visemes.alignment.builtin.features``: MFCCs), *phonological* features of a phone (``visemes.lang_packs.features``:
panphon's articulatory features, also the model's phone input via ``visemes.models.features``), and the
model's per-frame *audio* features (``visemes.models.audio_features``: loudness and pitch).
"""

from __future__ import annotations

import csv
import functools
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING

from visemes.core.errors import BackendUnavailableError

if TYPE_CHECKING:
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


_SPEC = {"+": 1, "0": 0, "-": -1}


@dataclass(frozen=True)
class _SegTable:
    """panphon's segment table (its own data file), read without pandas.

    Hand-written because ``panphon.FeatureTable()`` takes 1-8 s to build (pandas ``iterrows`` over 6,000
    rows plus a 6,000-way regex); reading the same CSV with the csv module takes ~30 ms. Segmentation
    is panphon's own rule (longest known prefix, unknown characters skipped); a test checks that the
    vectors equal panphon's for every segment the packs use.
    """

    segments: Mapping[str, list[str]]  # segment -> its "+"/"-"/"0" values (converted when used)
    longest: int

    def vectors(self, word: str) -> list[tuple[int, ...]]:
        word = unicodedata.normalize("NFD", word)
        out, i = [], 0
        while i < len(word):
            for n in range(min(self.longest, len(word) - i), 0, -1):
                vec = self.segments.get(word[i:i + n])
                if vec is not None:
                    out.append(tuple(_SPEC[v] for v in vec))
                    i += n
                    break
            else:
                i += 1
        return out


@functools.lru_cache(maxsize=1)
def _table() -> _SegTable:  # read once per process, only when a feature is first needed
    import importlib.util

    # locate panphon's data without importing panphon (its __init__ imports pandas: ~1 s)
    found = importlib.util.find_spec("panphon")
    if found is None or not found.submodule_search_locations:
        raise BackendUnavailableError("panphon is not installed: pip install panphon.")
    path = Path(next(iter(found.submodule_search_locations))) / "data" / "ipa_all.csv"
    with path.open(encoding="utf-8") as f:
        rows = csv.reader(f)
        header = next(rows)
        if tuple(header[1:]) != FEATURE_NAMES:
            raise BackendUnavailableError(
                f"panphon's ipa_all.csv has features {header[1:]}, expected {list(FEATURE_NAMES)}; "
                "install a panphon release with the 24 spe+ features (pip install 'panphon>=0.20')."
            )
        segments = {unicodedata.normalize("NFD", r[0]): r[1:] for r in rows if r}
    return _SegTable(MappingProxyType(segments), max(map(len, segments)))


def _segments(symbol: str) -> list[tuple[int, ...]]:
    return _table().vectors(symbol)


def segment_features(symbol: str) -> list[dict[str, int]]:
    """panphon's segments of ``symbol`` (a tie or diacritics may make several), each as name -> -1/0/+1.

    The public face of the table above, for callers that need per-segment features (e.g. phone classes)."""
    return [dict(zip(FEATURE_NAMES, vec)) for vec in _segments(unicodedata.normalize("NFD", symbol))]


def _merge_affricate(stop: tuple[int, ...], fric: tuple[int, ...]) -> list[int] | None:
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
    import numpy as np  # imported here: loading and phonemizing need no numpy (~0.3 s to import)

    return np.asarray(_features(symbol), dtype=np.float32)


def feature(symbol: str, name: str) -> float:
    """One named feature of ``symbol`` (+1, -1 or 0)."""
    return _features(symbol)[_IDX[name]]


def is_syllabic(symbol: str) -> bool:
    return feature(symbol, "syl") > 0


def is_known_ipa(symbol: str) -> bool:
    """True when every base character of ``symbol`` is an IPA letter panphon knows (diacritics, length
    and tie bars allowed): the check that turns a mistyped or foreign label into an error, not a guess."""
    table = _table().segments
    bases = 0
    for ch in unicodedata.normalize("NFD", symbol):
        if ch in _TIES or unicodedata.category(ch) in ("Mn", "Lm", "Sk") or ch in "ːˑ˞ˈˌ":
            continue
        if ch not in table and ch not in _ALIASES:
            return False
        bases += 1
    return bases > 0
