"""Oculus / OpenXR viseme weights per frame: ``frame,time,sil,PP,FF,...,ou`` (15 weights, 6 decimals).

The layout game engines' lip-sync components consume (OVRLipSync's ``Visemes`` array order). Needs an
animation whose viseme curves are in the Oculus set (``viseme_set="oculus"``, the default).
"""

from __future__ import annotations

import os
from pathlib import Path

from visemes.core.atomic import atomic_write_text
from visemes.core.curves import FrameCurves
from visemes.core.errors import ExportError
from visemes.formats.curves_csv import frame_table_text
from visemes.formats.parts import ExportParts
from visemes.core.vocabulary import OCULUS_15

HEADER: tuple[str, ...] = ("frame", "time", *OCULUS_15)


def to_csv_text(visemes: FrameCurves) -> str:
    if set(visemes.channels) != set(OCULUS_15):
        raise ExportError(
            f"The Oculus export needs the 15 Oculus viseme weights; these curves have {list(visemes.channels)}. "
            "Animate with viseme_set='oculus'."
        )
    return frame_table_text(HEADER, visemes.times, visemes.select(OCULUS_15).values)


def write(parts: ExportParts, path: str | os.PathLike, *, overwrite: bool = False) -> Path:
    animation = parts.need_animation("oculus")
    return atomic_write_text(path, to_csv_text(animation.visemes), overwrite=overwrite)
