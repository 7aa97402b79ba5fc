"""Rhubarb Lip Sync outputs (TSV, XML, JSON) written exactly as ``rhubarb -f tsv|xml|json`` does, plus
readers for Rhubarb's TSV and JSON so users can bring existing Rhubarb results along.

Rhubarb's animation is a continuous sequence of mouth cues at centisecond resolution covering the
whole recording: pauses are shape ``X``, neighbouring cues of the same shape are joined. Times are
printed with two decimals. Our cues come from the viseme tier in the ``rhubarb`` set
(``visemes.mouth.visemesets.viseme_tier(..., "rhubarb")``); gaps become ``X``.

Options (:class:`visemes.formats.options.ExportOptions`): ``extended_shapes`` keeps only some of G, H, X
(the rest become their basic shape, as ``rhubarb --extendedShapes``); ``min_cue`` lengthens cues shorter
than it by taking time from longer neighbours, or gives a cue that cannot be lengthened to its longer
neighbour (Rhubarb keeps shapes >= 7 cs). Only the cue list changes; the alignment's tiers do not.

TSV: one ``<start>\\t<shape>`` line per cue, then ``<end>\\tX``.
XML / JSON: see :func:`to_xml` / :func:`to_json`; ``metadata.soundFile`` is the audio path (empty when
there is no audio file, e.g. text-only timing).
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from visemes.core.atomic import atomic_write_text
from visemes.core.errors import ExportError, TimelineError
from visemes.formats.options import RHUBARB_EXTENDED
from visemes.formats.parts import ExportParts, viseme_tier_in_set
from visemes.core.timeline import Alignment, Interval, Tier, loads_json, read_user_text

#: Rhubarb's basic (A-F) and extended (G, H, X) mouth shapes.
RHUBARB_SHAPES: tuple[str, ...] = ("A", "B", "C", "D", "E", "F", "G", "H", "X")
REST = "X"
#: Rhubarb's getBasicShape for the extended shapes (what a cue shows when its shape is not in use).
BASIC_SHAPE = {"G": "B", "H": "C", "X": "A"}


@dataclass(frozen=True)
class MouthCue:
    """One cue in centiseconds (Rhubarb's internal time unit, so outputs match it to the digit)."""

    start_cs: int
    end_cs: int
    shape: str

    @property
    def start(self) -> float:
        return self.start_cs / 100.0

    @property
    def end(self) -> float:
        return self.end_cs / 100.0


def _cs(seconds: float) -> int:
    return int(round(seconds * 100.0))


def mouth_cues(tier: Tier, duration: float, *, min_cue: float = 0.0,
               extended_shapes: str = RHUBARB_EXTENDED) -> list[MouthCue]:
    """Rhubarb's continuous cue list from a viseme tier: gaps -> X, joined, centisecond grid; shapes
    outside ``extended_shapes`` (and A-F) become their basic shape; no cue shorter than ``min_cue``
    seconds unless the whole recording is."""
    end_cs = max(_cs(duration), 1)
    raw: list[tuple[int, int, str]] = []
    cursor = 0
    for iv in tier:
        if iv.label not in RHUBARB_SHAPES:
            raise ExportError(
                f"Viseme {iv.label!r} at {iv.start:.2f} s is not a Rhubarb shape ({', '.join(RHUBARB_SHAPES)}); "
                "export the viseme tier of the 'rhubarb' set."
            )
        s, e = max(min(_cs(iv.start), end_cs), cursor), min(_cs(iv.end), end_cs)
        if e <= s:
            continue  # shorter than Rhubarb's 10 ms resolution once rounded
        if s > cursor:
            raw.append((cursor, s, REST))
        raw.append((s, e, iv.label))
        cursor = e
    if cursor < end_cs:
        raw.append((cursor, end_cs, REST))
    keep = set("ABCDEF") | set(extended_shapes)
    raw = [(s, e, shape if shape in keep else BASIC_SHAPE[shape]) for s, e, shape in raw]
    cues = _joined(raw)
    min_cs = _cs(min_cue)
    return _lengthen_short(cues, min_cs) if min_cs > 1 else cues


def _joined(raw: list[tuple[int, int, str]]) -> list[MouthCue]:
    cues: list[MouthCue] = []
    for s, e, shape in raw:
        if cues and cues[-1].shape == shape and cues[-1].end_cs == s:
            cues[-1] = MouthCue(cues[-1].start_cs, e, shape)
        else:
            cues.append(MouthCue(s, e, shape))
    return cues


def _lengthen_short(cues: list[MouthCue], min_cs: int) -> list[MouthCue]:
    """Shortest cue first: take the missing time from neighbours that stay >= ``min_cs`` (the longer
    one first); when they cannot give enough, the cue goes and its longer neighbour takes its time."""
    spans = [[c.start_cs, c.end_cs, c.shape] for c in cues]
    while len(spans) > 1:
        short = [i for i, (s, e, _) in enumerate(spans) if e - s < min_cs]
        if not short:
            break
        i = min(short, key=lambda k: (spans[k][1] - spans[k][0], k))
        need = min_cs - (spans[i][1] - spans[i][0])
        sides = [k for k in (i - 1, i + 1) if 0 <= k < len(spans)]
        spare = {k: max(spans[k][1] - spans[k][0] - min_cs, 0) for k in sides}
        if sum(spare.values()) >= need:
            for k in sorted(sides, key=lambda k: -spare[k]):
                take = min(spare[k], need)
                if k < i:
                    spans[k][1] -= take
                    spans[i][0] -= take
                else:
                    spans[k][0] += take
                    spans[i][1] += take
                need -= take
            continue
        k = max(sides, key=lambda k: (spans[k][1] - spans[k][0], -k))  # the longer neighbour absorbs it
        if k < i:
            spans[k][1] = spans[i][1]
        else:
            spans[k][0] = spans[i][0]
        del spans[i]
        joined = _joined([(s, e, shape) for s, e, shape in spans])
        spans = [[c.start_cs, c.end_cs, c.shape] for c in joined]
    return [MouthCue(s, e, shape) for s, e, shape in spans]


def _fmt(cs: int) -> str:
    return f"{cs / 100.0:.2f}"


def to_tsv(cues: list[MouthCue]) -> str:
    lines = [f"{_fmt(c.start_cs)}\t{c.shape}" for c in cues]
    lines.append(f"{_fmt(cues[-1].end_cs if cues else 0)}\t{REST}")
    return "\n".join(lines) + "\n"


def to_json(cues: list[MouthCue], sound_file: str = "") -> str:
    # Hand-formatted like Rhubarb's own JsonExporter (json.dumps cannot print 0.00 with two decimals).
    duration = cues[-1].end_cs if cues else 0
    lines = [
        "{",
        '  "metadata": {',
        f'    "soundFile": {json.dumps(sound_file, ensure_ascii=False)},',
        f'    "duration": {_fmt(duration)}',
        "  },",
        '  "mouthCues": [',
    ]
    cue_lines = [
        f'    {{ "start": {_fmt(c.start_cs)}, "end": {_fmt(c.end_cs)}, "value": "{c.shape}" }}' for c in cues
    ]
    lines.append(",\n".join(cue_lines))
    lines += ["  ]", "}"]
    return "\n".join(lines) + "\n"


def to_xml(cues: list[MouthCue], sound_file: str = "") -> str:
    # Laid out as boost::property_tree::write_xml(indent ' ' x 2) prints Rhubarb's tree.
    duration = cues[-1].end_cs if cues else 0
    lines = [
        '<?xml version="1.0" encoding="utf-8"?>',
        "<rhubarbResult>",
        "  <metadata>",
        f"    <soundFile>{escape(sound_file)}</soundFile>",
        f"    <duration>{_fmt(duration)}</duration>",
        "  </metadata>",
        "  <mouthCues>",
        *(f'    <mouthCue start="{_fmt(c.start_cs)}" end="{_fmt(c.end_cs)}">{c.shape}</mouthCue>' for c in cues),
        "  </mouthCues>",
        "</rhubarbResult>",
    ]
    return "\n".join(lines) + "\n"


def cues_of(parts: ExportParts, fmt: str) -> list[MouthCue]:
    tier = viseme_tier_in_set(parts, "rhubarb", fmt)
    return mouth_cues(tier, parts.need_alignment(fmt).duration, min_cue=parts.options.min_cue,
                      extended_shapes=parts.options.extended_shapes)


def write_tsv(parts: ExportParts, path: str | os.PathLike, *, overwrite: bool = False) -> Path:
    return atomic_write_text(path, to_tsv(cues_of(parts, "rhubarb-tsv")), overwrite=overwrite)


def write_json(parts: ExportParts, path: str | os.PathLike, *, overwrite: bool = False) -> Path:
    return atomic_write_text(path, to_json(cues_of(parts, "rhubarb-json"), parts.sound_file), overwrite=overwrite)


def write_xml(parts: ExportParts, path: str | os.PathLike, *, overwrite: bool = False) -> Path:
    return atomic_write_text(path, to_xml(cues_of(parts, "rhubarb-xml"), parts.sound_file), overwrite=overwrite)


# --- readers ---------------------------------------------------------------------------------------


def _check_shape(shape: str, where: str) -> str:
    shape = shape.strip()
    if shape not in RHUBARB_SHAPES:
        raise ExportError(f"{where}: {shape!r} is not a Rhubarb mouth shape ({', '.join(RHUBARB_SHAPES)}).")
    return shape


def cues_to_alignment(cues: list[tuple[float, float, str]], duration: float, source: str) -> Alignment:
    """Rhubarb cues as an alignment with one ``visemes`` tier (``X`` cues become gaps)."""
    duration = max([duration] + [e for _, e, _ in cues])
    if duration <= 0:
        raise ExportError(f"{source}: the Rhubarb result is empty (zero duration).")
    try:
        intervals = [Interval(s, e, shape) for s, e, shape in cues if shape != REST and e > s]
        return Alignment((Tier("visemes", tuple(intervals)),), duration, {"viseme_set": "rhubarb", "source": source})
    except TimelineError as exc:
        raise ExportError(f"{source}: {exc}") from None


def read_tsv(path: str | os.PathLike) -> Alignment:
    path = Path(path)
    lines = [ln for ln in _read_text(path).splitlines() if ln.strip()]
    points: list[tuple[float, str]] = []
    for n, line in enumerate(lines, 1):
        cells = line.split("\t")
        if len(cells) != 2:
            raise ExportError(f"{path}:{n}: expected '<time>\\t<shape>', got {line!r}.")
        try:
            t = float(cells[0])
        except ValueError:
            raise ExportError(f"{path}:{n}: {cells[0]!r} is not a time in seconds.") from None
        if points and t < points[-1][0]:
            raise ExportError(f"{path}:{n}: times must not decrease.")
        points.append((t, _check_shape(cells[1], f"{path}:{n}")))
    if not points:
        raise ExportError(f"{path} holds no mouth cues.")
    # Each cue lasts until the next line; the last line marks the end (Rhubarb writes X there).
    cues = [(s, e, shape) for (s, shape), (e, _) in zip(points, points[1:])]
    return cues_to_alignment(cues, points[-1][0], path.name)


def read_json(path: str | os.PathLike) -> Alignment:
    path = Path(path)
    data = loads_json(_read_text(path), str(path), ExportError, "give a Rhubarb result")
    if not isinstance(data, dict) or not isinstance(data.get("mouthCues"), list):
        raise ExportError(f"{path}: not a Rhubarb JSON result (no 'mouthCues' list).")
    cues = []
    for i, cue in enumerate(data["mouthCues"]):
        times = [cue.get(k) for k in ("start", "end")] if isinstance(cue, dict) else []
        if len(times) != 2 or not all(_is_number(t) for t in times) or not isinstance(cue.get("value"), str):
            raise ExportError(f"{path}: mouth cue {i} needs numeric 'start', 'end' and a string 'value'.")
        cues.append((float(times[0]), float(times[1]), _check_shape(cue["value"], f"{path}: cue {i}")))
    metadata = data.get("metadata") or {}
    duration = metadata.get("duration", 0.0) if isinstance(metadata, dict) else None
    if not _is_number(duration or 0.0):
        raise ExportError(f"{path}: 'metadata.duration' must be a number of seconds.")
    return cues_to_alignment(cues, float(duration or 0.0), path.name)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _read_text(path: Path) -> str:
    return read_user_text(path, ExportError, "give a file written by Rhubarb or visemes", encoding="utf-8-sig")
