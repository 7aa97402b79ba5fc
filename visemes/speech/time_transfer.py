"""Carry times from one phone sequence onto another that spells the same speech a little differently.

espeak-ng reports timed phoneme events in its own IPA (stress marks, tone-less names, ``s.`` for
retroflex, unsplit diphthongs); a language pack's transcript of the same text is normalized (tones
in attributes, ties, split diphthongs, gemination, its own symbol choices). Matching them phone for
phone would break on the first difference, so we align *characters of base symbols*: each timed
phone's base string gets its time span cut into equal slots, one per character; an edit-distance
alignment (cheap substitutions within vowels or within consonants) pairs those characters with the
transcript's; each transcript phone then spans the slots of its characters. A split diphthong thus
gets the two halves of the event's span, a merged affricate the union of two events, and a transcript
phone with no counterpart shares its neighbours' time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from visemes.core.errors import AlignmentError, InputError
from visemes.core.vocabulary import VOWEL_LETTERS, base_letters

# integer edit costs (no float ties in the dynamic programme)
_COST_EQUAL, _COST_SAME_CLASS, _COST_OTHER, _COST_INDEL = 0, 3, 9, 5
#: Largest dynamic-programme table (one byte per cell).
_MAX_CELLS = 400_000_000


def base_symbol(symbol: str) -> str:
    """``symbol`` without stress, length, tone digits/letters, ties, diacritics and dots.

    >>> base_symbol("ˈaː"), base_symbol("t͡ʃ"), base_symbol("i5"), base_symbol("s."), base_symbol("tʰ")
    ('a', 'tʃ', 'i', 's', 't')
    """
    return base_letters(symbol) or symbol.strip() or "?"


def _char_class(ch: str) -> int:
    return 0 if ch in VOWEL_LETTERS else 1


def _align_chars(src: str, tgt: str) -> tuple[np.ndarray, np.ndarray]:
    """Edit-distance alignment; returns for each src char its tgt char index or -1, and vice versa.

    Row-vectorised: within a row the insertion chain is a running minimum (D[j] = j*c + cummin(T[k] - k*c)).
    """
    n, m = len(src), len(tgt)
    if n * m > _MAX_CELLS:
        raise InputError(
            f"Too long to align in one piece ({n} x {m} phone characters); split the text into sentences "
            "or paragraphs (under about 20 minutes of speech each)."
        )
    s_codes = np.array([ord(c) for c in src], dtype=np.int64)
    t_codes = np.array([ord(c) for c in tgt], dtype=np.int64)
    s_cls = np.array([_char_class(c) for c in src], dtype=np.int64)
    t_cls = np.array([_char_class(c) for c in tgt], dtype=np.int64)
    cols = np.arange(m + 1, dtype=np.int64)
    prev = cols * _COST_INDEL
    # 0 = diagonal (match/substitute), 1 = up (src char unmatched), 2 = left (tgt char unmatched)
    pointers = np.zeros((n + 1, m + 1), dtype=np.int8)
    pointers[0, 1:] = 2
    for i in range(1, n + 1):
        sub = np.where(t_codes == s_codes[i - 1], _COST_EQUAL, np.where(t_cls == s_cls[i - 1], _COST_SAME_CLASS, _COST_OTHER))
        up = prev + _COST_INDEL
        best = up.copy()
        diag = prev[:-1] + sub
        take_diag = diag <= up[1:]
        best[1:] = np.where(take_diag, diag, up[1:])
        row_ptr = np.ones(m + 1, dtype=np.int8)
        row_ptr[1:][take_diag] = 0
        chained = cols * _COST_INDEL + np.minimum.accumulate(best - cols * _COST_INDEL)
        row_ptr[chained < best] = 2
        pointers[i] = row_ptr
        prev = chained
    src_to_tgt = np.full(n, -1, dtype=np.int64)
    tgt_to_src = np.full(m, -1, dtype=np.int64)
    i, j = n, m
    while i > 0 or j > 0:
        move = pointers[i, j] if (i > 0 and j > 0) else (1 if i > 0 else 2)
        if move == 0:
            src_to_tgt[i - 1], tgt_to_src[j - 1] = j - 1, i - 1
            i, j = i - 1, j - 1
        elif move == 1:
            i -= 1
        else:
            j -= 1
    return src_to_tgt, tgt_to_src


@dataclass(frozen=True)
class TransferredTimes:
    """``spans[i]`` is symbol i's ``(start, end)``; ``matched[i]`` is False where it shares a neighbour's time."""

    spans: tuple[tuple[float, float], ...]
    matched: tuple[bool, ...]

    @property
    def n_unmatched(self) -> int:
        return sum(not m for m in self.matched)


def transfer_times(
    timed: Sequence[tuple[str, float, float]],
    symbols: Sequence[str],
    groups: Sequence[int] | None = None,
) -> list[tuple[float, float]]:
    """Times for ``symbols`` from ``timed`` phones ``(symbol, start, end)`` of the same utterance.

    ``timed`` must be ordered and non-overlapping (gaps are pauses and stay gaps). ``groups`` (e.g. the
    word index of each symbol) decides which neighbour an untimed symbol borrows time from across a
    pause. Returns one ``(start, end)`` per symbol, ordered, each with ``end > start``.
    """
    return list(transfer_times_detailed(timed, symbols, groups).spans)


def transfer_times_detailed(
    timed: Sequence[tuple[str, float, float]],
    symbols: Sequence[str],
    groups: Sequence[int] | None = None,
) -> TransferredTimes:
    """:func:`transfer_times`, also telling which symbols found a counterpart in ``timed``."""
    if not symbols:
        return TransferredTimes((), ())
    timed = [(s, float(a), float(b)) for s, a, b in timed if b > a]
    if not timed:
        raise AlignmentError("No timed phones to take times from (the synthesizer produced no phonemes).")
    groups = list(groups) if groups is not None else [0] * len(symbols)

    # characters with their time slots (source) and owning symbol (target)
    src_chars, slot_start, slot_end = [], [], []
    for name, start, end in timed:
        base = base_symbol(name)
        width = (end - start) / len(base)
        for k, ch in enumerate(base):
            src_chars.append(ch)
            slot_start.append(start + k * width)
            slot_end.append(start + (k + 1) * width)
    tgt_chars, owner = [], []
    for idx, sym in enumerate(symbols):
        for ch in base_symbol(sym):
            tgt_chars.append(ch)
            owner.append(idx)
    src_to_tgt, _ = _align_chars("".join(src_chars), "".join(tgt_chars))

    # matched slots time their symbols; a run of unmatched slots (an epenthetic schwa the pack dropped,
    # say) is split at its temporal midpoint between the symbols on either side. Slots keep their own
    # spans, so a pause inside the run stays a gap.
    n = len(symbols)
    starts = np.full(n, np.inf)
    ends = np.full(n, -np.inf)
    owner_arr = np.asarray(owner, dtype=np.int64)
    assigned = np.where(src_to_tgt >= 0, owner_arr[np.maximum(src_to_tgt, 0)], -1)
    for slot, sym in enumerate(assigned):
        if sym >= 0:
            starts[sym] = min(starts[sym], slot_start[slot])
            ends[sym] = max(ends[sym], slot_end[slot])
    n_src = len(src_chars)
    k = 0
    while k < n_src:
        if assigned[k] >= 0:
            k += 1
            continue
        run_end = k
        while run_end < n_src and assigned[run_end] < 0:
            run_end += 1
        before = int(assigned[k - 1]) if k > 0 else -1
        after = int(assigned[run_end]) if run_end < n_src else -1
        run = range(k, run_end)
        if before >= 0 and after >= 0:
            mid = 0.5 * (slot_start[k] + slot_end[run_end - 1])
        else:
            mid = slot_end[run_end - 1] if before >= 0 else slot_start[k]
        for slot in run:
            if before >= 0 and slot_start[slot] < mid:
                ends[before] = max(ends[before], min(slot_end[slot], mid))
            if after >= 0 and slot_end[slot] > mid:
                starts[after] = min(starts[after], max(slot_start[slot], mid))
        k = run_end

    has_time = ends > starts
    if not has_time.any():
        raise AlignmentError(
            "The synthesized phonemes share nothing with the transcript's phones; check that the voice "
            "speaks the transcript's language."
        )
    matched = tuple(bool(x) for x in has_time)
    _fill_untimed(starts, ends, has_time, groups)
    return TransferredTimes(tuple((float(a), float(b)) for a, b in zip(starts, ends)), matched)


def _fill_untimed(starts: np.ndarray, ends: np.ndarray, has_time: np.ndarray, groups: list[int]) -> None:
    """Give each run of untimed symbols a share of its neighbours' time (in place).

    Neighbours that touch (no pause between) pool their span; across a pause only the neighbour in the
    same group (word) donates. Shares are proportional: donors keep weight = their duration, each
    untimed symbol gets the donors' mean duration.
    """
    n = len(starts)
    i = 0
    while i < n:
        if has_time[i]:
            i += 1
            continue
        j = i
        while j < n and not has_time[j]:
            j += 1
        a = i - 1 if i > 0 else None
        b = j if j < n else None
        if a is not None and b is not None and abs(starts[b] - ends[a]) > 1e-9:
            # a pause separates the donors: borrow from the one in the run's word (the previous by default)
            if groups[i] == groups[b] and groups[i] != groups[a]:
                a = None
            else:
                b = None
        donors = [d for d in (a, b) if d is not None]
        lo, hi = starts[donors[0]], ends[donors[-1]]
        donor_dur = [ends[d] - starts[d] for d in donors]
        weights = ([donor_dur[0]] if a is not None else []) + [float(np.mean(donor_dur))] * (j - i)
        weights += [donor_dur[-1]] if b is not None else []
        members = ([a] if a is not None else []) + list(range(i, j)) + ([b] if b is not None else [])
        edges = lo + (hi - lo) * np.concatenate([[0.0], np.cumsum(weights)]) / float(np.sum(weights))
        for k, member in enumerate(members):
            starts[member], ends[member] = edges[k], edges[k + 1]
        has_time[i:j] = True
        i = j
