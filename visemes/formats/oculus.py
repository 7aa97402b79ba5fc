"""Oculus / OpenXR viseme weights per frame: ``frame,time,sil,PP,FF,...,ou`` (15 weights, 6 decimals).

The layout game engines' lip-sync components consume (OVRLipSync's ``Visemes`` array order). Needs an
animation whose viseme curves are in the Oculus set (``viseme_set="oculus"``, the default).

With ``ExportOptions.min_cue`` > 0 (and an alignment), :func:`hold_visemes` makes every viseme of the
timeline visible in the frames: one shorter than a frame can fall between two frame times and never
show. The weights change, the timeline does not.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from visemes.core.atomic import atomic_write_text
from visemes.core.curves import FrameCurves
from visemes.core.errors import ExportError
from visemes.core.timeline import Tier
from visemes.formats.curves_csv import frame_table_text
from visemes.formats.parts import ExportParts, viseme_tier_in_set
from visemes.core.vocabulary import OCULUS_15

HEADER: tuple[str, ...] = ("frame", "time", *OCULUS_15)
REST = "sil"
#: weight a held viseme gets at least (then it outweighs all others together in those frames)
HOLD_WEIGHT = 0.5


def hold_visemes(visemes: FrameCurves, tier: Tier, min_hold: float) -> FrameCurves:
    """Each non-rest viseme of ``tier`` holds at least ``HOLD_WEIGHT`` (or its own peak there, if higher)
    in the frames from its start to ``max(end, start + min_hold)``, in at least one frame (the one nearest
    its middle when no frame time falls inside); the other weights of a changed frame shrink in proportion
    so each frame still sums as before. Later visemes win where holds overlap."""
    values = np.array(visemes.values, dtype=np.float64)
    index = {c: i for i, c in enumerate(visemes.channels)}
    fps, n = visemes.fps, len(values)
    for iv in tier:
        if iv.label == REST or iv.label not in index:
            continue
        start, end = iv.start - visemes.start, max(iv.end, iv.start + min_hold) - visemes.start
        # frames k with start <= k / fps < end (a frame exactly at the end belongs to the next viseme)
        first, last = int(np.ceil(start * fps - 1e-9)), int(np.ceil(end * fps - 1e-9)) - 1
        frames = np.arange(max(first, 0), min(last, n - 1) + 1)
        if len(frames) == 0:
            frames = np.array([min(max(int(round(0.5 * (start + end) * fps)), 0), n - 1)])
        c = index[iv.label]
        level = max(HOLD_WEIGHT, float(values[frames, c].max()))
        for f in frames:
            total, own = values[f].sum(), values[f, c]
            if own >= level:
                continue
            others = total - own
            target = level * total if total > 0 else level
            scale = (total - target) / others if others > 0 else 0.0
            values[f] *= scale
            values[f, c] = target
    return FrameCurves(visemes.fps, visemes.channels, values, visemes.start, visemes.meta)


def to_csv_text(visemes: FrameCurves) -> str:
    if set(visemes.channels) != set(OCULUS_15):
        raise ExportError(
            f"The Oculus export needs the 15 Oculus viseme weights; these curves have {list(visemes.channels)}. "
            "Animate with viseme_set='oculus'."
        )
    return frame_table_text(HEADER, visemes.times, visemes.select(OCULUS_15).values)


def write(parts: ExportParts, path: str | os.PathLike, *, overwrite: bool = False) -> Path:
    animation = parts.need_animation("oculus")
    visemes = animation.visemes
    if parts.options.min_cue > 0 and parts.alignment is not None:
        visemes = hold_visemes(visemes, viseme_tier_in_set(parts, "oculus", "oculus"), parts.options.min_cue)
    return atomic_write_text(path, to_csv_text(visemes), overwrite=overwrite)
