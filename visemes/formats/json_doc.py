"""Our JSON document: the alignment and the per-frame curves in one versioned file (and its reader).

Layout::

    {"format": "visemes.result", "format_version": 1,
     "alignment": <Alignment.to_dict()> | null,
     "animation": {"source": ..., "articulation": <FrameCurves>, "blendshapes": ..., "visemes": ...} | null}

The reader also accepts a bare alignment document (``"format": "visemes.alignment"``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Mapping

from visemes.core.atomic import atomic_write_text
from visemes.core.curves import FrameCurves, MouthAnimation
from visemes.core.errors import ExportError, InputError, TimelineError
from visemes.formats.parts import ExportParts
from visemes.core.timeline import Alignment, loads_json, read_user_text

FORMAT = "visemes.result"
FORMAT_VERSION = 1


def animation_to_dict(animation: MouthAnimation) -> dict[str, Any]:
    return {
        "source": animation.source,
        "articulation": animation.articulation.to_dict(),
        "blendshapes": animation.blendshapes.to_dict(),
        "visemes": animation.visemes.to_dict(),
    }


def animation_from_dict(data: Mapping[str, Any]) -> MouthAnimation:
    if not isinstance(data, Mapping):
        raise ExportError("The animation record must be a JSON object; re-export the file.")
    source = data.get("source", "coarticulation")
    if not isinstance(source, str):
        raise ExportError("The animation record's 'source' must be a string; re-export the file.")
    return MouthAnimation(*(_curves_from_dict(data, key) for key in ("articulation", "blendshapes", "visemes")),
                          source)


def _curves_from_dict(data: Mapping[str, Any], key: str) -> FrameCurves:
    """One per-frame record, its shape and types checked before numpy sees it (ragged or text values)."""
    record = data.get(key)
    where = f"The animation record's {key!r}"
    if not isinstance(record, Mapping):
        raise ExportError(f"{where} is missing or not a JSON object; re-export the file.")
    fps, channels, values = record.get("fps"), record.get("channels"), record.get("values")
    if isinstance(fps, bool) or not isinstance(fps, (int, float)):
        raise ExportError(f"{where}: 'fps' must be a number; re-export the file.")
    if not isinstance(channels, list) or not all(isinstance(c, str) and c for c in channels):
        raise ExportError(f"{where}: 'channels' must be a list of names; re-export the file.")
    if not isinstance(values, list) or not all(isinstance(row, list) and len(row) == len(channels)
                                               and all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                                       for v in row) for row in values):
        raise ExportError(f"{where}: 'values' must be rows of {len(channels)} numbers; re-export the file.")
    start = record.get("start", 0.0)
    if isinstance(start, bool) or not isinstance(start, (int, float)):
        raise ExportError(f"{where}: 'start' must be a number; re-export the file.")
    meta = record.get("meta") or {}
    if not isinstance(meta, Mapping):
        raise ExportError(f"{where}: 'meta' must be an object; re-export the file.")
    try:
        return FrameCurves.from_dict(record)
    except (OverflowError, ValueError) as exc:  # InputError (a ValueError) from the curves' own checks too
        raise ExportError(f"{where}: {exc}; re-export the file.") from None


def to_document(parts: ExportParts) -> dict[str, Any]:
    if parts.alignment is None and parts.animation is None:
        raise ExportError("Nothing to write to JSON: give an alignment and/or an animation.")
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "alignment": parts.alignment.to_dict() if parts.alignment is not None else None,
        "animation": animation_to_dict(parts.animation) if parts.animation is not None else None,
    }


def write(parts: ExportParts, path: str | os.PathLike, *, overwrite: bool = False) -> Path:
    text = json.dumps(to_document(parts), ensure_ascii=False, indent=1)
    return atomic_write_text(path, text + "\n", overwrite=overwrite)


def from_document(data: Any, source: str = "<document>") -> ExportParts:
    if not isinstance(data, dict):
        raise ExportError(f"{source}: a visemes JSON document must be an object at the top level.")
    kind = data.get("format")
    if kind == "visemes.alignment":
        return ExportParts(alignment=Alignment.from_dict(data))
    if kind != FORMAT:
        raise ExportError(
            f"{source}: not a visemes JSON document (format={kind!r}); expected {FORMAT!r} or "
            "'visemes.alignment'."
        )
    version = data.get("format_version")
    if version != FORMAT_VERSION:
        raise ExportError(
            f"{source}: format_version {version!r} is not supported (this library reads {FORMAT_VERSION}); "
            "upgrade visemes or re-export the file."
        )
    alignment = Alignment.from_dict(data["alignment"]) if data.get("alignment") is not None else None
    animation = animation_from_dict(data["animation"]) if data.get("animation") is not None else None
    if alignment is None and animation is None:
        raise ExportError(f"{source}: the document holds neither an alignment nor an animation.")
    return ExportParts(alignment=alignment, animation=animation)


def read(path: str | os.PathLike) -> ExportParts:
    """Read a file written by :func:`write` (or a bare alignment JSON) back to objects."""
    path = Path(path)
    text = read_user_text(path, ExportError, "give a JSON file written by visemes")
    data = loads_json(text, str(path), ExportError)
    try:
        return from_document(data, str(path))
    except (TimelineError, InputError) as exc:
        raise ExportError(f"{path}: {exc}") from None
