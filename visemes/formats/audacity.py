"""Audacity label track text (``File > Export > Labels``): ``start\\tend\\tlabel`` per line.

One tier per file (default ``visemes`` when present, else ``phones``). Times have 6 decimals, as Audacity
writes them. Reading skips Audacity's spectral-selection lines (those starting with ``\\``) and point
labels (start == end), which have no span to put in a tier.
"""

from __future__ import annotations

import os
from pathlib import Path

from visemes.core.atomic import atomic_write_text
from visemes.core.errors import ExportError, TimelineError
from visemes.formats.parts import ExportParts
from visemes.core.timeline import Alignment, Interval, Tier, read_user_text


def default_tier(alignment: Alignment) -> str:
    for name in ("visemes", "phones", "words"):
        if alignment.has_tier(name):
            return name
    return alignment.tier_names[0]


def to_labels(tier: Tier) -> str:
    for iv in tier:
        if "\t" in iv.label or "\n" in iv.label:
            raise ExportError(f"Label {iv.label!r} contains a tab or line break; Audacity labels cannot hold it.")
    return "".join(f"{iv.start:.6f}\t{iv.end:.6f}\t{iv.label}\n" for iv in tier)


def write(parts: ExportParts, path: str | os.PathLike, *, overwrite: bool = False, tier: str | None = None) -> Path:
    alignment = parts.need_alignment("audacity")
    name = tier or default_tier(alignment)
    return atomic_write_text(path, to_labels(alignment.tier(name)), overwrite=overwrite)


def read_audacity(path: str | os.PathLike, *, tier: str = "labels", duration: float | None = None) -> Alignment:
    """An Audacity label file as an alignment with one tier named ``tier``."""
    path = Path(path)
    text = read_user_text(path, ExportError, "export the labels from Audacity again", encoding="utf-8-sig")
    lines = text.splitlines()
    intervals = []
    for n, line in enumerate(lines, 1):
        if not line.strip() or line.startswith("\\"):
            continue  # blank, or the frequency range of a spectral selection
        cells = line.split("\t")
        if len(cells) < 2:
            raise ExportError(f"{path}:{n}: expected '<start>\\t<end>\\t<label>', got {line!r}.")
        try:
            start, end = float(cells[0]), float(cells[1])
        except ValueError:
            raise ExportError(f"{path}:{n}: start and end must be seconds, got {cells[:2]}.") from None
        label = cells[2].strip() if len(cells) > 2 else ""
        if end <= start or not label:
            continue  # point labels and unlabelled regions carry no interval
        intervals.append(Interval(start, end, label))
    if not intervals:
        raise ExportError(f"{path} holds no labelled region.")
    intervals.sort(key=lambda iv: iv.start)
    try:
        out_tier = Tier(tier, tuple(intervals))
        return Alignment((out_tier,), duration or out_tier.end, {"source": path.name})
    except TimelineError as exc:
        raise ExportError(f"{path}: {exc}") from None
