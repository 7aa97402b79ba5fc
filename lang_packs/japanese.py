"""Japanese text with kanji -> kana as pronounced, for espeak-ng's ``ja`` voice (which reads only kana).

espeak-ng reads kanji as English "Chinese letter"; a morphological analyser gives each morpheme its
pronunciation instead. pyopenjtalk-plus (MIT; its NAIST-jdic based dictionary, BSD-3, ships inside the
wheel, nothing is downloaded; install with ``pip install 'visemes[ja]'``) gives the *spoken* form:
particles as said (は -> ワ, へ -> エ, を -> オ), long vowels as ー, numbers read out (2026 -> ニセンニジューロク).
Plain ``pyopenjtalk`` is not used: it downloads its dictionary at first use.

Morphemes are grouped into accent phrases (a content word with the particles and auxiliaries that
follow it, as OpenJTalk chains them), which become the pack's words: 東京に | 行きます. A group never
ends on the sokuon ッ, so the pack sees it before its consonant (降って -> フッテ -> ɸ ɯ tː e).
Text with no kanji is left to the pack's kana rules unchanged (the analyser is then not needed).
"""

from __future__ import annotations

import contextlib
import functools
import io
import re
from collections.abc import Callable
from typing import Any

from visemes.core.errors import BackendUnavailableError

from visemes.lang_packs.text import Piece, is_han

INSTALL_HINT = "pip install 'visemes[ja]'"
_DEVOICED = "\u2019"  # OpenJTalk marks a devoiced mora with ’ (マス’)
_KANA = re.compile(r"^[\u30a0-\u30ff]+$")
_BOUND = ("助詞", "助動詞", "接尾", "接尾辞")  # particles, auxiliaries, suffixes join the word before
_SPOKEN = str.maketrans({"ヲ": "オ"})     # the object particle を is said o
# espeak-ng's ja rules read a u-row mora followed by ウ + small vowel (クウェ, ムウェ, ブウォ) as a long
# u, drop the small kana and then spell the rest of the word out as "Japanese letter": a space there
# makes it read the two parts as it reads them alone (ダーク ウェブ); the pack joins them into one word.
_U_THEN_W = re.compile(r"(?<=[クグスズツヅヌフブプムュルゥくぐすずつづぬふぶぷむゅるぅ])(?=[ウう][ァィェォぁぃぇぉ])")


@functools.lru_cache(maxsize=1)
def _frontend() -> Callable[[str], list[dict[str, Any]]]:
    try:
        # it prints a notice about its optional ONNX model to stdout on import: keep CLI output clean
        with contextlib.redirect_stdout(io.StringIO()):
            import pyopenjtalk
    except ImportError as exc:
        raise BackendUnavailableError(
            "Japanese text with kanji needs a reading dictionary (espeak-ng reads only kana): "
            f"{INSTALL_HINT} (pyopenjtalk-plus), or write the text in kana."
        ) from exc
    if not hasattr(pyopenjtalk, "run_frontend"):  # pragma: no cover - another package of that name
        raise BackendUnavailableError(f"The installed pyopenjtalk has no run_frontend; {INSTALL_HINT}.")
    return pyopenjtalk.run_frontend


def available() -> bool:
    """True when the reading dictionary is installed (kanji can be read)."""
    try:
        _frontend()
    except BackendUnavailableError:
        return False
    return True


def accent_phrases(text: str) -> list[tuple[str, str]]:
    """``[(surface, katakana as spoken)]`` per accent phrase of ``text``: 東京に行きます ->
    [("東京に", "トーキョーニ"), ("行きます", "イキマス")]."""
    groups: list[list[str]] = []
    for node in _frontend()(text):
        pron = node["pron"].replace(_DEVOICED, "").translate(_SPOKEN)
        if not _KANA.match(pron):  # punctuation and symbols: a boundary
            groups.append(["", ""])
            continue
        last = groups[-1] if groups else None
        joins = last is not None and last[1] and (
            node.get("chain_flag") == 1 or str(node.get("pos", "")).startswith(_BOUND) or last[1].endswith("ッ"))
        if joins:
            last[0] += node["string"]
            last[1] += pron
        else:
            groups.append([node["string"], pron])
    return [(s, p) for s, p in groups if p]


# In kana-only text an e-row kana + い is the long vowel eː (せんせい, えいが), as standard speech says it:
# written ー for espeak. Not for the reader's kana: OpenJTalk already writes long vowels as ー, so its
# エイ are morpheme boundaries (降っています フッテイマス).
_EI = re.compile(r"(?<=[えけせてねへめれげぜでべぺぇエケセテネヘメレゲゼデベペェ])[いイ]")


def for_espeak(kana: str) -> str:
    """Kana as espeak-ng's ja voice reads it right (see _U_THEN_W): ダークウェブ -> ダーク ウェブ."""
    return _U_THEN_W.sub(" ", kana)


def read(chunk: str) -> list[Piece]:
    """One orthographic chunk -> pieces: with kanji, its accent phrases in kana; else the chunk itself."""
    if not any(is_han(ch) for ch in chunk):
        return [Piece(chunk, for_espeak(_EI.sub("ー", chunk)))]
    return [Piece(surface, for_espeak(kana)) for surface, kana in accent_phrases(chunk)]
