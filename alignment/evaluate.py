"""Phone-boundary accuracy of predicted alignments against gold ones.

Convention (shared by every benchmark of the project): a boundary is the start of every non-silent
phone plus the end of the last one; silence labels are empty, ``sil``, ``sp``, ``spn`` (and MFA's
``<eps>``). Predicted and gold phones are matched by edit distance over their labels (Levenshtein,
unit costs), so a real gold transcription that differs from the aligner's (an extra glottal stop, a
diphthong written as two phones) is still scored: a matched pair (same label, or a substitution)
scores its start boundary, the final end is scored when the last phones are matched to each other,
and inserted (predicted only) and deleted (gold only) phones are counted, not scored. Files needing
more edits than ``max_edit_share`` of the gold phones (and more than 2) are reported, never scored
(another text).
``strict_labels=True`` scores only files whose labels match gold exactly. Files with substitutions
are listed in ``EvalReport.relabelled``.

Word boundaries are scored the same way when both sides have a ``words`` tier (words matched by edit
distance over their case-folded labels).

Reported overall, per language and per phone class: the share of boundaries within 10/20/25/50 ms,
the median and the mean absolute error; per language the phone edits.

Phone classes come from panphon's features of the gold label (first segment; a stop followed by a
fricative in one label, as in ``ts`` or ``dʒ``, is an affricate):

============  ======================================================================
vowel         syllabic and not consonantal (nasal vowels included)
nasal         nasal (syllabic nasals included)
affricate     delayed release and not continuant (``t͡s``), or stop + fricative label
stop          not continuant, not nasal: plosives, implosives, clicks, glottal stop
fricative     continuant and not sonorant; also ``h``/``ɦ`` (panphon marks them sonorant)
approximant   continuant sonorants: approximants, glides, liquids, taps and trills
other         labels panphon cannot read (ARPAbet, pinyin, unknown symbols)
============  ======================================================================

The start boundary of a phone counts for that phone's class; the final end counts for the last phone.
"""

from __future__ import annotations

import functools
import json
import math
import os
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from visemes.core.errors import InputError, VisemesError
from visemes.core.textgrid import read_textgrid
from visemes.core.timeline import PHONES, WORDS, Alignment, Tier, is_silence_label, read_user_text
from visemes.lang_packs.features import segment_features

#: Silence labels of the scoring convention (compared case-insensitively after stripping).
THRESHOLDS_MS = (10, 20, 25, 50)
PHONE_CLASSES = ("vowel", "stop", "fricative", "nasal", "approximant", "affricate", "other")
LangRule = Literal["subdir", "prefix", "none"]
#: edits a file may always need (one affricate written as two phones is a substitution plus an
#: insertion, which would exceed half of a 3-phone word)
MIN_EDITS_ALLOWED = 2

# Symbols panphon does not know, read as the nearest symbol it does (rhotic vowels).
_ALIASES = {"ɚ": "ə", "ɝ": "ɜ"}


# --- phone classes ----------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def phone_class(label: str) -> str:
    """The broad class of an IPA phone label (see the module doc), via panphon features."""
    text = unicodedata.normalize("NFD", label.strip())
    text = unicodedata.normalize("NFC", "".join(_ALIASES.get(ch, ch) for ch in text))
    segs = [seg for seg in segment_features(text) if any(seg.values())]
    if not segs:
        return "other"
    first = segs[0]
    if len(segs) >= 2 and _single_class(first) == "stop" and _single_class(segs[-1]) == "fricative":
        return "affricate"
    return _single_class(first)


def _single_class(f: Mapping[str, int]) -> str:
    if f["syl"] == 1 and f["cons"] == -1:
        return "vowel"
    if f["nas"] == 1:
        return "nasal"
    if f["cont"] == -1:
        return "affricate" if f["delrel"] == 1 else "stop"
    if f["son"] == -1:
        return "fricative"
    if f["cons"] == 1 and f["lat"] == -1 and f["delrel"] == -1:
        return "fricative"  # h, ɦ: panphon marks them sonorant; taps/trills have delrel 0, laterals lat+
    return "approximant"


# --- boundaries -------------------------------------------------------------------------------------


def is_silence(label: str) -> bool:
    return is_silence_label(label)


def boundaries(alignment: Alignment, tier: str = PHONES) -> tuple[np.ndarray, list[str]]:
    """Boundary times (s) and the label each belongs to: every non-silent interval's start, then the
    last one's end."""
    phones = [iv for iv in alignment.tier(tier) if not is_silence(iv.label)]
    if not phones:
        return np.zeros(0), []
    times = [iv.start for iv in phones] + [phones[-1].end]
    labels = [iv.label for iv in phones] + [phones[-1].label]
    return np.asarray(times, dtype=np.float64), labels


# --- matching -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Edits:
    """How a predicted label sequence maps onto gold: ``pairs`` (pred index, gold index) of matched
    items, same label or substituted, plus the counts."""

    pairs: tuple[tuple[int, int], ...]
    substituted: int
    inserted: int  # predicted items with no gold counterpart
    deleted: int  # gold items with no predicted counterpart

    @property
    def total(self) -> int:
        return self.substituted + self.inserted + self.deleted


def match_labels(pred: Sequence[str], gold: Sequence[str], pred_starts: Sequence[float] | None = None,
                 gold_starts: Sequence[float] | None = None) -> Edits:
    """Levenshtein alignment of two label sequences (unit costs). Among alignments with the fewest
    edits, the one whose matched items start closest in time wins (when the starts are given): the
    time term is scaled to stay below one edit in total. Remaining ties prefer a match or
    substitution, then a deletion, then an insertion."""
    n, m = len(pred), len(gold)
    if n == m and list(pred) == list(gold):
        return Edits(tuple((i, i) for i in range(n)), 0, 0, 0)  # the usual case, and long files: no table
    sub = (np.asarray(pred, dtype=object)[:, None] != np.asarray(gold, dtype=object)[None, :]).astype(np.float64)
    if pred_starts is not None and gold_starts is not None and n and m:
        tp, tg = np.asarray(pred_starts, dtype=np.float64), np.asarray(gold_starts, dtype=np.float64)
        gap = np.abs(tp[:, None] - tg[None, :])
        span = max(float(gap.max()), 1e-9)
        sub += gap / (span * (min(n, m) + 1))  # at most min(n, m) pairs: the sum stays below 1
    cost = np.zeros((n + 1, m + 1))
    cost[0, :] = np.arange(m + 1)
    steps = np.arange(m + 1, dtype=np.float64)
    for i in range(1, n + 1):
        cand = np.empty(m + 1)
        cand[0] = i
        cand[1:] = np.minimum(cost[i - 1, :-1] + sub[i - 1], cost[i - 1, 1:] + 1)
        # deletions run along the row: cost[i, j] = min_k cand[k] + (j - k)
        cost[i] = np.minimum.accumulate(cand - steps) + steps
    pairs: list[tuple[int, int]] = []
    n_sub = ins = dele = 0
    i, j = n, m
    while i > 0 or j > 0:
        if i > 0 and j > 0 and abs(cost[i, j] - (cost[i - 1, j - 1] + sub[i - 1, j - 1])) < 1e-9:
            n_sub += pred[i - 1] != gold[j - 1]
            pairs.append((i - 1, j - 1))
            i, j = i - 1, j - 1
        elif j > 0 and abs(cost[i, j] - (cost[i, j - 1] + 1)) < 1e-9:
            dele += 1
            j -= 1
        else:
            ins += 1
            i -= 1
    return Edits(tuple(reversed(pairs)), int(n_sub), ins, dele)


def matched_errors_ms(pred_t: np.ndarray, gold_t: np.ndarray, edits: Edits) -> tuple[np.ndarray, np.ndarray]:
    """Absolute errors (ms) of the matched boundaries and the gold boundary index of each: the start of
    every matched pair, and the final end when the last items are matched to each other."""
    n_pred, n_gold = len(pred_t) - 1, len(gold_t) - 1
    p_idx = [p for p, _ in edits.pairs]
    g_idx = [g for _, g in edits.pairs]
    if edits.pairs and edits.pairs[-1] == (n_pred - 1, n_gold - 1):
        p_idx.append(n_pred)
        g_idx.append(n_gold)
    g = np.asarray(g_idx, dtype=np.int64)
    return np.abs(pred_t[np.asarray(p_idx, dtype=np.int64)] - gold_t[g]) * 1000.0, g


# --- statistics ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BoundaryStats:
    """Absolute boundary errors summarised: count, share within each threshold, median and mean (ms)."""

    n: int
    within: Mapping[int, float]
    median_ms: float
    mean_ms: float

    @classmethod
    def of(cls, errors_ms: np.ndarray) -> "BoundaryStats":
        errors_ms = np.abs(np.asarray(errors_ms, dtype=np.float64))
        if errors_ms.size == 0:
            return cls(0, {t: math.nan for t in THRESHOLDS_MS}, math.nan, math.nan)
        # a hair of tolerance: 10 ms written as 0.01 s in a TextGrid is 10.000000000000002 ms here
        within = {t: float(np.mean(errors_ms <= t + 1e-6)) for t in THRESHOLDS_MS}
        return cls(int(errors_ms.size), within, float(np.median(errors_ms)), float(np.mean(errors_ms)))

    def to_dict(self) -> dict[str, Any]:
        return {
            "boundaries": self.n,
            **{f"within_{t}ms": _json_float(v) for t, v in self.within.items()},
            "median_ms": _json_float(self.median_ms),
            "mean_ms": _json_float(self.mean_ms),
        }


def _json_float(value: float) -> float | None:
    return None if math.isnan(value) else round(value, 6)


@dataclass(frozen=True)
class EditCounts:
    """Phone (or word) edits summed over files: gold items, and how many were substituted, inserted
    (predicted only) and deleted (gold only)."""

    gold: int = 0
    substituted: int = 0
    inserted: int = 0
    deleted: int = 0

    def __add__(self, other: "EditCounts") -> "EditCounts":
        return EditCounts(self.gold + other.gold, self.substituted + other.substituted,
                          self.inserted + other.inserted, self.deleted + other.deleted)

    @property
    def error_rate(self) -> float:
        """(substituted + inserted + deleted) / gold, the phone error rate."""
        return (self.substituted + self.inserted + self.deleted) / self.gold if self.gold else math.nan

    def to_dict(self) -> dict[str, Any]:
        return {"gold": self.gold, "substituted": self.substituted, "inserted": self.inserted,
                "deleted": self.deleted, "error_rate": _json_float(self.error_rate)}


@dataclass(frozen=True)
class FileScore:
    name: str
    lang: str
    boundaries: int
    mean_ms: float
    label_differences: int = 0  # substituted phones
    inserted: int = 0
    deleted: int = 0
    word_boundaries: int = 0


@dataclass(frozen=True)
class EvalReport:
    """Scores overall, per language and per phone class, plus the files that could not be scored."""

    overall: BoundaryStats
    by_lang: Mapping[str, BoundaryStats]
    by_class: Mapping[str, BoundaryStats]
    files: tuple[FileScore, ...]
    problems: tuple[tuple[str, str], ...] = field(default_factory=tuple)
    #: Gold files with no prediction at the same relative path (``evaluate_dirs``).
    missing: tuple[str, ...] = field(default_factory=tuple)
    #: phone edits of the scored files, per language ("ALL" = every file)
    edits: Mapping[str, EditCounts] = field(default_factory=dict)
    #: word boundaries (files where both sides have a words tier), overall and per language
    words: BoundaryStats | None = None
    words_by_lang: Mapping[str, BoundaryStats] = field(default_factory=dict)

    @property
    def relabelled(self) -> list[FileScore]:
        """Scored files whose phone labels differ from gold at some positions (same count)."""
        return [f for f in self.files if f.label_differences]

    def table(self) -> str:
        """A plain-text table (overall, per language, per class) and the list of unscored files."""
        header = ["", "boundaries"] + [f"<={t}ms" for t in THRESHOLDS_MS] + ["median ms", "mean ms"]
        rows = [header, _row("overall", self.overall)]
        rows += [_row(f"lang {lang}", stats) for lang, stats in sorted(self.by_lang.items())]
        rows += [_row(f"class {cls}", self.by_class[cls]) for cls in PHONE_CLASSES if cls in self.by_class]
        if self.words is not None and self.words.n:
            rows.append(_row("words", self.words))
            rows += [_row(f"words {lang}", stats) for lang, stats in sorted(self.words_by_lang.items())]
        lines = _aligned(rows)
        if self.edits:
            edit_rows = [["phone edits", "gold", "substituted", "inserted", "deleted", "error rate"]]
            for lang, e in sorted(self.edits.items(), key=lambda kv: (kv[0] != "ALL", kv[0])):
                rate = "-" if math.isnan(e.error_rate) else f"{100 * e.error_rate:.1f}%"
                edit_rows.append([("overall" if lang == "ALL" else f"lang {lang}"), str(e.gold), str(e.substituted),
                                  str(e.inserted), str(e.deleted), rate])
            lines += [""] + _aligned(edit_rows)
        lines.append(f"{len(self.files)} files scored, {len(self.problems)} not scored"
                     + (f", {len(self.missing)} gold files without a prediction" if self.missing else "") + ".")
        if self.relabelled:
            lines.append(f"{len(self.relabelled)} scored files have phone labels that differ from gold "
                         "(matched by edit distance).")
        for name, reason in self.problems[:20]:
            lines.append(f"  not scored: {name}: {reason}")
        if len(self.problems) > 20:
            lines.append(f"  ... and {len(self.problems) - 20} more")
        if self.missing:
            shown = ", ".join(self.missing[:5]) + (" ..." if len(self.missing) > 5 else "")
            lines.append(f"  no prediction for: {shown}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": "visemes.eval_align",
            "format_version": 2,
            "overall": self.overall.to_dict(),
            "by_lang": {k: v.to_dict() for k, v in sorted(self.by_lang.items())},
            "by_class": {k: v.to_dict() for k, v in self.by_class.items()},
            "edits": {k: v.to_dict() for k, v in sorted(self.edits.items())},
            "words": self.words.to_dict() if self.words is not None else None,
            "words_by_lang": {k: v.to_dict() for k, v in sorted(self.words_by_lang.items())},
            "files": [
                {"name": f.name, "lang": f.lang, "boundaries": f.boundaries, "mean_ms": _json_float(f.mean_ms),
                 "label_differences": f.label_differences, "inserted": f.inserted, "deleted": f.deleted,
                 "word_boundaries": f.word_boundaries}
                for f in self.files
            ],
            "not_scored": [{"name": n, "reason": r} for n, r in self.problems],
            "missing_predictions": list(self.missing),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2)


def _aligned(rows: list[list[str]]) -> list[str]:
    """Rows as text columns (first left-aligned, others right), a rule under the header."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(r, widths)))
             for r in rows]
    lines.insert(1, "-" * len(lines[0]))
    return lines


def _row(name: str, stats: BoundaryStats) -> list[str]:
    def pct(v: float) -> str:
        return "-" if math.isnan(v) else f"{100 * v:.1f}%"

    def ms(v: float) -> str:
        return "-" if math.isnan(v) else f"{v:.1f}"

    return [name, str(stats.n)] + [pct(stats.within[t]) for t in THRESHOLDS_MS] + [ms(stats.median_ms),
                                                                                ms(stats.mean_ms)]


# --- scoring ------------------------------------------------------------------------------------------


def evaluate_pairs(
    pred_alignments: Sequence[Alignment],
    gold_alignments: Sequence[Alignment],
    langs: Sequence[str | None] | None = None,
    names: Sequence[str] | None = None,
    *,
    strict_labels: bool = False,
    max_edit_share: float = 0.5,
    problems: Iterable[tuple[str, str]] = (),
    missing: Iterable[str] = (),
) -> EvalReport:
    """Score predicted alignments against gold ones, pair by pair (same order).

    ``langs`` labels each pair's language (None or "" = "unknown"; defaults to the gold alignment's
    ``meta["lang"]``); ``names`` labels files in the report. A file whose phones need more than
    ``max_edit_share`` times the gold phone count in edits is not scored. ``problems`` (files the
    caller could not read) and ``missing`` (gold files without a prediction) are carried into the report.
    """
    if len(pred_alignments) != len(gold_alignments):
        raise InputError(
            f"evaluate_pairs() got {len(pred_alignments)} predicted and {len(gold_alignments)} gold alignments; "
            "give one prediction per gold file."
        )
    n = len(gold_alignments)
    names = list(names) if names is not None else [str(i) for i in range(n)]
    langs = list(langs) if langs is not None else [g.meta.get("lang") for g in gold_alignments]
    if len(names) != n or len(langs) != n:
        raise InputError("names and langs must have one entry per pair.")
    unscored = list(problems)
    errors_all: list[np.ndarray] = []
    by_lang: dict[str, list[np.ndarray]] = {}
    by_class: dict[str, list[np.ndarray]] = {}
    word_errors: dict[str, list[np.ndarray]] = {}
    edits_by_lang: dict[str, EditCounts] = {}
    files: list[FileScore] = []
    for pred, gold, lang, name in zip(pred_alignments, gold_alignments, langs, names):
        lang = lang or "unknown"
        try:
            pred_t, pred_labels = boundaries(pred)
            gold_t, gold_labels = boundaries(gold)
        except VisemesError as exc:
            unscored.append((name, str(exc)))
            continue
        if gold_t.size == 0:
            unscored.append((name, "the gold alignment has no phones"))
            continue
        if pred_t.size == 0:
            unscored.append((name, "the predicted alignment has no phones"))
            continue
        edits = match_labels([_norm(x) for x in pred_labels[:-1]], [_norm(x) for x in gold_labels[:-1]],
                             pred_t[:-1], gold_t[:-1])
        n_gold = gold_t.size - 1
        if edits.total > max(MIN_EDITS_ALLOWED, max_edit_share * n_gold):
            unscored.append((name, f"{pred_t.size - 1} predicted phones vs {n_gold} gold phones need {edits.total} "
                                   f"edits (more than {max_edit_share:.0%} of the gold phones and more than "
                                   f"{MIN_EDITS_ALLOWED}); another text?"))
            continue
        if edits.total and strict_labels:
            why = (f"{edits.substituted} phone labels differ from gold" if edits.total == edits.substituted else
                   f"{edits.substituted} substituted, {edits.inserted} inserted, {edits.deleted} deleted phones")
            unscored.append((name, why))
            continue
        errors, gold_idx = matched_errors_ms(pred_t, gold_t, edits)
        errors_all.append(errors)
        by_lang.setdefault(lang, []).append(errors)
        classes = [phone_class(gold_labels[g]) for g in gold_idx]
        for cls in set(classes):
            by_class.setdefault(cls, []).append(errors[[c == cls for c in classes]])
        counts = EditCounts(n_gold, edits.substituted, edits.inserted, edits.deleted)
        edits_by_lang[lang] = edits_by_lang.get(lang, EditCounts()) + counts
        n_words = 0
        if pred.has_tier(WORDS) and gold.has_tier(WORDS):
            pw_t, pw_labels = boundaries(pred, WORDS)
            gw_t, gw_labels = boundaries(gold, WORDS)
            if pw_t.size and gw_t.size:
                w_edits = match_labels([_norm(x).casefold() for x in pw_labels[:-1]],
                                       [_norm(x).casefold() for x in gw_labels[:-1]], pw_t[:-1], gw_t[:-1])
                w_err, _ = matched_errors_ms(pw_t, gw_t, w_edits)
                word_errors.setdefault(lang, []).append(w_err)
                n_words = int(w_err.size)
        mean = float(errors.mean()) if errors.size else math.nan
        files.append(FileScore(name, lang, int(errors.size), mean, edits.substituted, edits.inserted, edits.deleted,
                               n_words))
    cat = lambda parts: np.concatenate(parts) if parts else np.zeros(0)  # noqa: E731
    all_edits = sum(edits_by_lang.values(), EditCounts())
    return EvalReport(
        overall=BoundaryStats.of(cat(errors_all)),
        by_lang={k: BoundaryStats.of(cat(v)) for k, v in by_lang.items()},
        by_class={c: BoundaryStats.of(cat(by_class[c])) for c in PHONE_CLASSES if c in by_class},
        files=tuple(files),
        problems=tuple(unscored),
        missing=tuple(missing),
        edits={**edits_by_lang, "ALL": all_edits} if files else {},
        words=BoundaryStats.of(cat([e for v in word_errors.values() for e in v])) if word_errors else None,
        words_by_lang={k: BoundaryStats.of(cat(v)) for k, v in word_errors.items()},
    )


def _norm(label: str) -> str:
    return unicodedata.normalize("NFC", label.strip())


# --- folders ------------------------------------------------------------------------------------------


def read_alignment(path: str | os.PathLike, *, phones_tier: str | None = None,
                   words_tier: str | None = None) -> Alignment:
    """A ``.TextGrid`` (silence labels become gaps) or one of our alignment ``.json`` files.

    ``phones_tier`` / ``words_tier`` name the tiers to score as phones and words (case-insensitive;
    default: ``phones``/``phone`` and ``words``/``word``)."""
    path = Path(path)
    if path.suffix.lower() == ".json":
        text = read_user_text(path, InputError, "give an alignment JSON written by visemes")
        alignment = Alignment.from_json(text, str(path))
    else:
        alignment = read_textgrid(path)
    alignment = select_tiers(alignment, phones_tier=phones_tier, words_tier=words_tier, source=str(path))
    if not alignment.has_tier(PHONES):
        raise InputError(f"{path} has no phones tier (tiers: {alignment.tier_names}); name it with --gold-phones-tier.")
    return alignment


def select_tiers(alignment: Alignment, *, phones_tier: str | None = None, words_tier: str | None = None,
                 source: str = "the alignment") -> Alignment:
    """``alignment`` with the tier named ``phones_tier`` as its phones tier and ``words_tier`` as its
    words tier (names compared case-insensitively; other tiers are dropped when they would clash)."""
    chosen: dict[str, Tier] = {}
    for role, wanted in ((PHONES, phones_tier), (WORDS, words_tier)):
        if not wanted:
            continue
        found = [t for t in alignment.tiers if t.name.casefold() == wanted.strip().casefold()]
        if not found:
            raise InputError(f"{source} has no tier {wanted!r} (tiers: {', '.join(alignment.tier_names)}).")
        chosen[role] = Tier(role, found[0].intervals)
    if not chosen:
        return alignment
    used = {wanted.strip().casefold() for wanted in (phones_tier, words_tier) if wanted}
    kept = [t for t in alignment.tiers if t.name not in chosen and t.name.casefold() not in used]
    return Alignment(tuple(kept) + tuple(chosen.values()), alignment.duration, alignment.meta)


def lang_of(rel_key: str, rule: LangRule) -> str:
    """The language of a file from its path relative to the gold folder.

    ``subdir``: the first folder (``ces/ces-004-000`` -> ``ces``; files at the top -> ``unknown``);
    ``prefix``: the file name up to the first ``-`` or ``_`` (``ces-004-000`` -> ``ces``); ``none``: all
    ``unknown``.
    """
    parts = rel_key.split("/")
    if rule == "subdir":
        return parts[0] if len(parts) > 1 else "unknown"
    if rule == "prefix":
        stem = parts[-1]
        cut = min((i for i in (stem.find("-"), stem.find("_")) if i > 0), default=len(stem))
        return stem[:cut] or "unknown"
    if rule == "none":
        return "unknown"
    raise InputError(f"Unknown --lang-from rule {rule!r}; use subdir, prefix or none.")


def evaluate_dirs(
    pred_dir: str | os.PathLike,
    gold_dir: str | os.PathLike,
    *,
    lang_from: LangRule = "subdir",
    strict_labels: bool = False,
    gold_phones_tier: str | None = None,
    gold_words_tier: str | None = None,
    max_edit_share: float = 0.5,
) -> EvalReport:
    """Score every gold ``*.TextGrid`` under ``gold_dir`` against the prediction at the same relative
    path under ``pred_dir`` (``.TextGrid``, else ``.json``). Unreadable files are reported in
    ``problems``; gold files without a prediction in ``missing`` (so a partial run can be scored)."""
    pred_root, gold_root = Path(pred_dir), Path(gold_dir)
    for root, what in ((pred_root, "prediction"), (gold_root, "gold")):
        if not root.is_dir():
            raise InputError(f"The {what} folder {root} does not exist or is not a folder.")
    gold_files = sorted(p for p in gold_root.rglob("*") if p.is_file() and p.suffix.lower() == ".textgrid")
    if not gold_files:
        raise InputError(f"No .TextGrid files under {gold_root}; give the folder with the gold alignments.")
    preds: list[Alignment] = []
    golds: list[Alignment] = []
    langs: list[str] = []
    names: list[str] = []
    problems: list[tuple[str, str]] = []
    missing: list[str] = []
    for gold_path in gold_files:
        key = gold_path.relative_to(gold_root).with_suffix("").as_posix()
        candidates = [pred_root / (key + ext) for ext in (".TextGrid", ".textgrid", ".json")]
        pred_path = next((c for c in candidates if c.is_file()), None)
        if pred_path is None:
            missing.append(key)
            continue
        try:
            gold = read_alignment(gold_path, phones_tier=gold_phones_tier, words_tier=gold_words_tier)
            pred = read_alignment(pred_path)
        except VisemesError as exc:
            problems.append((key, str(exc)))
            continue
        preds.append(pred)
        golds.append(gold)
        langs.append(lang_of(key, lang_from))
        names.append(key)
    return evaluate_pairs(preds, golds, langs, names, strict_labels=strict_labels, max_edit_share=max_edit_share,
                          problems=problems, missing=missing)
