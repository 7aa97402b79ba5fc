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
from visemes.core.timeline import Alignment

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
    try:
        return MouthAnimation(
            FrameCurves.from_dict(data["articulation"]),
            FrameCurves.from_dict(data["blendshapes"]),
            FrameCurves.from_dict(data["visemes"]),
            str(data.get("source", "coarticulation")),
        )
    except KeyError as exc:
        raise ExportError(f"The animation record lacks the key {exc.args[0]!r}; re-export the file.") from None


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
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ExportError(f"Cannot read {path}: {exc.strerror or exc}.") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ExportError(f"{path} is not valid JSON ({exc}); give a file written by visemes.") from None
    try:
        return from_document(data, str(path))
    except (TimelineError, InputError) as exc:
        raise ExportError(f"{path}: {exc}") from None
