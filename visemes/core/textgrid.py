"""Praat TextGrid <-> :class:`Alignment` (via praatio): the timeline's interchange format.

Writing: one interval tier per alignment tier (``words``, ``phones``, ``visemes`` ...), gaps written as
empty intervals, long (default) or short TextGrid text format, UTF-8. Interval attrs (confidence, tone)
have no place in a TextGrid interval; with ``confidence_tier`` the words' aligner confidence is written
as one more tier, ``confidence`` (a word's span labelled ``0.93``, or ``0.41 suspect`` when the aligner
found that word does not fit the audio), so Praat shows where to look. The JSON export keeps every attr.

Reading: TextGrids as MFA, VoxAngeles, Praat users and we write them. Tier names ``words``/``word`` and
``phones``/``phone`` (any case, optionally MFA's multi-speaker ``"<speaker> - words"``) become the
``words``/``phones`` tiers; ``visemes``/``viseme`` likewise; other interval tiers keep their name; point
tiers are skipped. Silence labels (:data:`~visemes.core.timeline.SILENCE_LABELS`) become gaps.

In the core because the aligners read gold and MFA TextGrids and the batch runner writes them; the
export format (``visemes.formats.textgrid``) is a thin layer over this.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

from praatio import textgrid as ptg
from praatio.utilities.errors import PraatioException

from visemes.core.atomic import atomic_path
from visemes.core.errors import ExportError, TimelineError
from visemes.core.timeline import SILENCE_LABELS, Alignment, Interval, Tier

_CANONICAL = {"word": "words", "words": "words", "phone": "phones", "phones": "phones",
              "viseme": "visemes", "visemes": "visemes"}
_FORMATS = {"long": "long_textgrid", "short": "short_textgrid"}
#: the extra tier ``write_textgrid(confidence_tier=True)`` writes
CONFIDENCE_TIER = "confidence"


def write_textgrid(
    alignment: Alignment,
    path: str | os.PathLike,
    *,
    overwrite: bool = False,
    text_format: Literal["long", "short"] = "long",
    tiers: Iterable[str] | None = None,
    confidence_tier: bool = False,
) -> Path:
    if text_format not in _FORMATS:
        raise ExportError(f"Unknown TextGrid format {text_format!r}; use 'long' or 'short'.")
    names = list(tiers) if tiers is not None else alignment.tier_names
    chosen = [alignment.tier(name) for name in names]
    # Tiers may end up to TIME_EPSILON after the duration; one common xmax keeps the file consistent.
    xmax = max([alignment.duration] + [t.end for t in chosen])
    tg = ptg.Textgrid(minTimestamp=0.0, maxTimestamp=xmax)
    for tier in chosen:
        entries = [(iv.start, iv.end, iv.label) for iv in tier]
        tg.addTier(ptg.IntervalTier(tier.name, entries, 0.0, xmax))
    scored = [w for w in alignment.words if "confidence" in w.attrs] if alignment.has_tier("words") else []
    if confidence_tier and scored and CONFIDENCE_TIER not in names:
        entries = [(w.start, w.end, f"{float(w.attrs['confidence']):.2f}" + (" suspect" if w.attrs.get("suspect") else ""))
                   for w in scored]
        tg.addTier(ptg.IntervalTier(CONFIDENCE_TIER, entries, 0.0, xmax))
    with atomic_path(path, overwrite=overwrite, suffix=".TextGrid") as tmp:
        # includeBlankSpaces: praatio fills the gaps with empty intervals, as Praat itself does.
        tg.save(str(tmp), format=_FORMATS[text_format], includeBlankSpaces=True, reportingMode="silence")
    return Path(path)


def canonical_tier_name(name: str) -> str:
    """``"words"`` for ``word``/``Words``/``"spk1 - words"``; other names unchanged."""
    base = name.strip()
    if " - " in base:  # MFA names tiers "<speaker> - words" when it aligns several speakers
        base = base.rsplit(" - ", 1)[1].strip()
    return _CANONICAL.get(base.lower(), name.strip())


def read_textgrid(
    path: str | os.PathLike,
    *,
    silence_labels: Iterable[str] = SILENCE_LABELS,
    lang: str | None = None,
) -> Alignment:
    """A TextGrid file as an :class:`Alignment` (silences become gaps)."""
    path = Path(path)
    silence = {s.strip().lower() for s in silence_labels}
    try:
        tg = ptg.openTextgrid(str(path), includeEmptyIntervals=False, reportingMode="silence")
    except FileNotFoundError:
        raise ExportError(f"Cannot read {path}: no such file.") from None
    # praatio also reads its JSON form and indexes whatever JSON it finds: a file holding `null`, a list or
    # a dict without its keys ends in AttributeError/TypeError/KeyError inside it, not a parse error
    except (PraatioException, ValueError, IndexError, UnicodeDecodeError, AttributeError, TypeError, KeyError) as exc:
        reason = " ".join(str(exc).split())  # praatio's messages span lines; ours is one
        if isinstance(exc, (AttributeError, TypeError, KeyError)):
            reason = "JSON, but not a TextGrid in praatio's JSON form"
        raise ExportError(f"{path} is not a readable TextGrid ({reason}); save it from Praat as text.") from None
    tiers: list[Tier] = []
    for tier_name in tg.tierNames:
        ptier = tg.getTier(tier_name)
        if ptier.tierType != ptg.INTERVAL_TIER:
            continue  # point tiers (tones, events) have no spans to align
        name = canonical_tier_name(tier_name)
        if name in (t.name for t in tiers):
            raise ExportError(
                f"{path}: more than one tier maps to {name!r} (several speakers?); split the TextGrid "
                "per speaker first."
            )
        intervals = []
        for entry in ptier.entries:
            label = entry.label.strip()
            if label.lower() in silence or entry.end <= entry.start:
                continue
            intervals.append(Interval(entry.start, entry.end, label))
        try:
            tiers.append(Tier(name, tuple(intervals)))
        except TimelineError as exc:
            raise ExportError(f"{path}: {exc}") from None
    if not tiers:
        raise ExportError(f"{path} has no interval tier; expected words/phones tiers.")
    meta = {"source": path.name}
    if lang:
        meta["lang"] = lang
    duration = max(tg.maxTimestamp, max(t.end for t in tiers))
    try:
        return Alignment(tuple(tiers), duration, meta)
    except TimelineError as exc:  # e.g. an xmax claiming longer than any recording
        raise ExportError(f"{path}: {exc}") from None
