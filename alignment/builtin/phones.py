"""Phone inventory helpers: base symbols and panphon broad classes for MAP back-off.

Back-off chain of an emission model: phone symbol -> base symbol (diacritics and length removed)
-> broad class (from panphon features) -> built-in prior.
"""

from __future__ import annotations

import csv
import unicodedata
from functools import lru_cache
from importlib import resources
from importlib.util import find_spec
from pathlib import Path

#: Modifier letters that change a phone's quality but not its base (length, aspiration, palatalisation...).
_MODIFIERS = set("ːˑʰʱʲʷˠˤˀⁿˡʼ˞ʴʵʶ͜͡‿ˈˌ")

CLASSES = (
    "vowel_high_front", "vowel_high_back", "vowel_mid_front", "vowel_mid_back", "vowel_low",
    "nasal", "liquid", "glide", "stop_voiceless", "stop_voiced", "affricate",
    "fricative_voiceless", "fricative_voiced", "sibilant", "glottal", "other",
)
#: Classes whose first HMM state is the closure (tied to silence) when not utterance-initial.
CLOSURE_CLASSES = frozenset({"stop_voiceless", "stop_voiced", "affricate"})
VOWEL_CLASSES = frozenset(c for c in CLASSES if c.startswith("vowel"))


def base_symbol(symbol: str) -> str:
    """``symbol`` without combining diacritics, modifier letters and tie bars (``tʃʰ`` -> ``tʃ``)."""
    decomposed = unicodedata.normalize("NFD", symbol)
    kept = "".join(
        c for c in decomposed if (not unicodedata.combining(c) or c == "\u0327") and c not in _MODIFIERS
    )  # the cedilla stays: ç is its own letter, not a diacritised c
    kept = unicodedata.normalize("NFC", kept)
    return kept or symbol


@lru_cache(maxsize=1)
def _table() -> dict[str, dict[str, int]]:
    """panphon's segment feature table, read with csv: panphon.FeatureTable() loads pandas (~2 s)."""
    # locate the file without importing panphon: its __init__ imports pandas (~0.5 s of a cold run)
    spec = find_spec("panphon")
    roots = list(spec.submodule_search_locations or []) if spec else []
    path = next((Path(r) / "data" / "ipa_all.csv" for r in roots if (Path(r) / "data" / "ipa_all.csv").is_file()), None)
    if path is not None:
        text = path.read_text("utf-8")
    else:
        text = resources.files("panphon").joinpath("data/ipa_all.csv").read_text("utf-8")
    rows = csv.reader(text.splitlines())
    header = next(rows)
    value = {"+": 1, "-": -1, "0": 0}
    return {
        unicodedata.normalize("NFD", r[0]): {k: value.get(v, 0) for k, v in zip(header[1:], r[1:])} for r in rows if r
    }


def _segments(symbol: str) -> list[dict[str, int]]:
    """Features of the longest table entries covering ``symbol`` left to right (at most two)."""
    table = _table()
    s = unicodedata.normalize("NFD", symbol.replace("\u0361", "").replace("\u035c", ""))
    if unicodedata.normalize("NFD", symbol) in table:
        return [table[unicodedata.normalize("NFD", symbol)]]
    out = []
    i = 0
    while i < len(s) and len(out) < 2:
        for j in range(len(s), i, -1):
            if s[i:j] in table:
                out.append(table[s[i:j]])
                i = j
                break
        else:
            i += 1
    return out


@lru_cache(maxsize=4096)
def broad_class(symbol: str) -> str:
    """One of :data:`CLASSES` from panphon features (first segment; tie-barred affricates count as one)."""
    symbol = symbol.replace("g", "ɡ")  # ASCII g is the common spelling of IPA ɡ
    for candidate in (symbol, base_symbol(symbol)):
        fts = _segments(candidate)
        if fts:
            break
    else:
        return "other"
    if base_symbol(candidate) in ("h", "ɦ"):
        return "glottal"  # panphon marks h as +son +cons, which would make it a liquid
    f = fts[0]
    g = f.__getitem__  # +1 / 0 / -1
    if "\u0361" in symbol or "\u035c" in symbol:
        if g("cont") < 0 and g("son") < 0:
            return "affricate"
    if len(fts) >= 2 and g("cont") < 0 and g("son") < 0 and fts[1]["cont"] > 0 and fts[1]["son"] < 0:
        return "affricate"  # e.g. "ts" written without a tie bar
    if g("velaric") > 0:
        return "stop_voiceless"
    if g("syl") > 0 and g("cons") < 0:
        if g("lo") > 0:
            return "vowel_low"
        high = g("hi") > 0
        back = g("back") > 0 or g("round") > 0
        return f"vowel_{'high' if high else 'mid'}_{'back' if back else 'front'}"
    if g("nas") > 0 and g("cont") < 0:
        return "nasal"
    if g("cons") < 0 and g("son") > 0 and g("syl") < 0 and g("cont") > 0:
        return "glide"
    if g("cons") < 0 and g("syl") < 0:
        return "glottal"  # ʔ, h, ɦ
    if g("son") > 0:
        return "liquid"
    if g("delrel") > 0:
        return "affricate"
    if g("cont") < 0:
        return "stop_voiced" if g("voi") > 0 else "stop_voiceless"
    if g("strid") > 0 and g("cor") > 0:
        return "sibilant"
    return "fricative_voiced" if g("voi") > 0 else "fricative_voiceless"
