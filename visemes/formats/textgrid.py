"""Praat TextGrid export: the alignment's tiers (see :mod:`visemes.core.textgrid`)."""

from __future__ import annotations

import os
from pathlib import Path

from visemes.core.textgrid import read_textgrid, write_textgrid

__all__ = ["read_textgrid", "write", "write_textgrid"]
from visemes.formats.parts import ExportParts


def write(parts: ExportParts, path: str | os.PathLike, *, overwrite: bool = False, text_format: str = "long") -> Path:
    return write_textgrid(parts.need_alignment("textgrid"), path, overwrite=overwrite, text_format=text_format,  # type: ignore[arg-type]
                          confidence_tier=True)
