"""Mandarin Han text -> words of toned pinyin after tone sandhi, for espeak-ng's ``cmn`` voice.

espeak-ng reads Han characters with one reading each (行 is always xing, so 银行 "bank" came out
yin xing) and gives every syllable its citation tone (你好 ni3 hao3, though it is said ni2 hao3). It
also reads toned pinyin (``ni2hao3``), so the cmn pack hands it pinyin instead:

* readings: pypinyin (MIT; its character and phrase dictionaries ship in the wheel, nothing is
  downloaded). It segments a Han run by maximum matching on its phrase dictionary, which also picks
  the reading of polyphones (银行 yin2 hang2, 行走 xing2 zou3, 重要 zhong4, 重新 chong2). Its phrases
  are in simplified characters: traditional text is looked up through its simplified form (OpenCC's
  t2s, phrase-aware: 著名 stays 著名, not 着名);
  the characters as written stay the words' text;
* sandhi over the whole run, with pypinyin's words as boundaries (its own ``tone_sandhi`` works inside
  one word only, and looks only at the last run of third tones):
  - third tone: in a run of third tones every one but the last becomes 2 (展览馆 zhan2 lan2 guan3,
    我很好 wo2 hen2 hao3), except that a one-syllable word before a longer word in the run keeps 3;
  - 一: 2 before a 4th tone (and 个), 4 before tones 1-3, 1 when last, ordinal (第一), in dates (一月)
    or next to a numeral, neutral between reduplicated syllables (看一看);
  - 不: 2 before a 4th tone, neutral in A不A (是不是), else 4.

Tones stay the pack's ``tone`` attribute (read back from espeak's mnemonics for the pinyin given).
Known limit: pypinyin splits a run per character unless a word is in its phrase dictionary, so the
1+2 third-tone pattern (老 保管) is rarely seen.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

from visemes.core.errors import BackendUnavailableError

from visemes.lang_packs.text import Piece, is_han

_NUMERALS = frozenset("零〇一二三四五六七八九十百千万亿两")
_DATE_AFTER_YI = frozenset("月号日楼层")
_TONE = re.compile(r"([1-5])$")


def _tone(s: str) -> int:
    m = _TONE.search(s)
    return int(m.group(1)) if m else 5


def _set(s: str, tone: int) -> str:
    return _TONE.sub("", s) + str(tone)


@functools.lru_cache(maxsize=1)
def _simplified() -> Callable[[str], str]:
    """Traditional -> simplified (OpenCC's t2s, Apache-2.0; its dictionaries ship in the wheel, nothing is
    downloaded): pypinyin's phrase dictionary is in simplified characters, so 銀行 alone would be read
    yin2 xing2, 音樂 yin1 le4."""
    try:
        # imported on first use: a compiled library and dictionaries only traditional Mandarin needs
        import opencc
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise BackendUnavailableError("Traditional-character Mandarin needs OpenCC: pip install opencc.") from exc
    converter = opencc.OpenCC("t2s")

    def convert(run: str) -> str:
        out = converter.convert(run)
        return out if len(out) == len(run) else run  # one character for one: positions map back

    return convert


@functools.lru_cache(maxsize=1)
def _pypinyin() -> tuple[Callable, Callable]:
    # imported on first use: pypinyin loads ~60 MB of dictionaries that only Mandarin needs
    try:
        from pypinyin import Style, lazy_pinyin
        from pypinyin.seg.simpleseg import seg
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise BackendUnavailableError("Mandarin readings need pypinyin: pip install pypinyin.") from exc

    def word_pinyin(word: str) -> list[str]:
        return lazy_pinyin(word, style=Style.TONE3, neutral_tone_with_five=True, errors=lambda x: ["?"] * len(x))

    return seg, word_pinyin


def sandhi(words: list[tuple[str, list[str]]]) -> list[tuple[str, list[str]]]:
    """一/不 and third-tone sandhi across ``[(word, TONE3 syllables)]`` of one Han run."""
    chars: list[str] = []
    syl: list[str] = []
    word_of: list[int] = []
    bounds: list[tuple[int, int]] = []
    for wi, (w, s) in enumerate(words):
        s = (list(s) + ["?"] * len(w))[:len(w)]  # one syllable per character
        bounds.append((len(chars), len(chars) + len(w)))
        chars.extend(w)
        syl.extend(s)
        word_of.extend([wi] * len(w))
    n = len(chars)
    for i, ch in enumerate(chars):
        prev_c = chars[i - 1] if i > 0 else ""
        next_c = chars[i + 1] if i + 1 < n else ""
        nxt = syl[i + 1] if i + 1 < n else None
        if ch == "一":
            if prev_c and prev_c == next_c and prev_c not in _NUMERALS:
                syl[i] = _set(syl[i], 5)                      # 看一看
            elif nxt is None or prev_c in _NUMERALS or next_c in _NUMERALS or prev_c == "第" \
                    or next_c in _DATE_AFTER_YI:
                syl[i] = _set(syl[i], 1)                      # 统一, 第一, 一月, 十一
            elif _tone(nxt) == 4 or next_c == "个":
                syl[i] = _set(syl[i], 2)                      # 一定, 一个
            else:
                syl[i] = _set(syl[i], 4)                      # 一天, 一起
        elif ch == "不":
            if prev_c and prev_c == next_c:
                syl[i] = _set(syl[i], 5)                      # 是不是
            elif nxt is not None and _tone(nxt) == 4:
                syl[i] = _set(syl[i], 2)                      # 不是
            else:
                syl[i] = _set(syl[i], 4)
    orig = [_tone(x) if x != "?" else 0 for x in syl]
    i = 0
    while i < n:
        if orig[i] != 3:
            i += 1
            continue
        j = i
        while j + 1 < n and orig[j + 1] == 3:
            j += 1
        for k in range(i, j):  # every third tone of the run i..j but the last
            wi = word_of[k]
            a, b = bounds[wi]
            if k == i and b - a == 1 and wi + 1 < len(words):
                c, d = bounds[wi + 1]
                if d - c >= 2 and d - 1 <= j:
                    continue  # 1+2 (老 保管): the monosyllable keeps its 3
            syl[k] = _set(syl[k], 2)
        i = j + 1
    return [(w, syl[a:b]) for (w, _), (a, b) in zip(words, bounds)]


def pinyin_words(run: str) -> list[tuple[str, list[str]]]:
    """A run of Han characters -> ``[(word, ["ni2", "hao3"])]`` after sandhi (neutral tone 5, ü as v)."""
    seg, word_pinyin = _pypinyin()
    simple = _simplified()(run)
    words, pos = [], 0
    for w in seg(simple):  # segment and read the simplified form; keep the characters as written
        words.append((run[pos:pos + len(w)], word_pinyin(w)))
        pos += len(w)
    return sandhi(words)


def _runs(chunk: str) -> list[tuple[bool, str]]:
    out: list[tuple[bool, str]] = []
    for ch in chunk:
        han = is_han(ch)
        if out and out[-1][0] == han:
            out[-1] = (han, out[-1][1] + ch)
        else:
            out.append((han, ch))
    return out


def read(chunk: str) -> list[Piece]:
    """One orthographic chunk (no spaces or punctuation) -> pieces: Han words as toned pinyin, the rest
    (Latin letters, digits) as written."""
    pieces: list[Piece] = []
    for han, run in _runs(chunk):
        if not han:
            pieces.append(Piece(run, run))
            continue
        for word, syllables in pinyin_words(run):
            if any(s == "?" or not _TONE.search(s) for s in syllables):
                pieces.append(Piece(word, word))  # a character pypinyin has no reading for: espeak's own
            else:
                pieces.append(Piece(word, "".join(syllables), len(syllables)))
    return pieces
