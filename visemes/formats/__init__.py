"""Exports (and readers for the formats that are also inputs).

``FORMATS`` maps a format name to an :class:`ExportFormat`: its file suffix, what it needs, its writer
``write(parts, path, *, overwrite=False) -> Path`` and, where the format is an input too, its reader
``read(path) -> object`` (what the format can hold: see each entry's ``reads``).

=============  =====================  ========  =====================================================
name           suffix                 reader    content
=============  =====================  ========  =====================================================
json           .json                  yes       alignment + all curves, versioned (-> ExportParts)
csv            .csv                   yes       per-frame curves, all groups prefixed (-> MouthAnimation)
textgrid       .TextGrid              yes       Praat TextGrid, one tier per alignment tier (-> Alignment)
rhubarb-tsv    .rhubarb.tsv           yes       Rhubarb Lip Sync TSV (-> Alignment, visemes tier)
rhubarb-json   .rhubarb.json          yes       Rhubarb Lip Sync JSON (-> Alignment, visemes tier)
rhubarb-xml    .rhubarb.xml           no        Rhubarb Lip Sync XML
moho           .dat                   no        Moho / Papagayo switch data (MohoSwitch1)
livelink       .livelink.csv          yes       Live Link Face CSV, ARKit blendshapes (-> FrameCurves)
audacity       .labels.txt            yes       Audacity labels, one tier (-> Alignment)
oculus         .oculus.csv            yes       Oculus 15 viseme weights per frame (-> FrameCurves)
azure-visemes  .azure-visemes.json    no        Azure Speech VisemeReceived events (VisemeId, AudioOffset ticks)
azure-blend    .azure-blend.json      no        Azure Speech blend-shape frames (55 weights at 60 fps)
wav            .wav                   no        the result's audio (synthetic speech), 16-bit PCM
=============  =====================  ========  =====================================================
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from visemes.core.atomic import check_writable
from visemes.core.errors import (
    ExportError,
    InputError,
    OutputWriteError,
    PartialExportError,
    VisemesError,
    closest_matches,
)
from visemes.formats import audacity, azure, curves_csv, json_doc, livelink, moho, oculus, rhubarb, textgrid, wav
from visemes.formats.options import ExportOptions
from visemes.formats.parts import Exportable, Exportables, ExportParts, as_parts

Writer = Callable[..., Path]
Reader = Callable[[str | os.PathLike], Any]


@dataclass(frozen=True)
class ExportFormat:
    name: str
    suffix: str
    description: str
    needs: tuple[str, ...]  # "alignment", "animation", "audio"
    write: Writer
    read: Reader | None = None
    reads: str = ""  # the type the reader returns

    def path_for(self, out_dir: str | os.PathLike, stem: str) -> Path:
        return Path(out_dir) / f"{stem}{self.suffix}"


FORMATS: Mapping[str, ExportFormat] = MappingProxyType({
    f.name: f
    for f in (
        ExportFormat("json", ".json", "alignment and curves in one versioned JSON document",
                     (), json_doc.write, json_doc.read, "ExportParts"),
        ExportFormat("csv", ".csv", "per-frame curves: frame, time, every channel (prefixed by group)",
                     ("animation",), curves_csv.write, curves_csv.read_animation_csv, "MouthAnimation"),
        ExportFormat("textgrid", ".TextGrid", "Praat TextGrid with one interval tier per alignment tier",
                     ("alignment",), textgrid.write, textgrid.read_textgrid, "Alignment"),
        ExportFormat("rhubarb-tsv", ".rhubarb.tsv", "Rhubarb Lip Sync TSV (time<TAB>shape)",
                     ("alignment",), rhubarb.write_tsv, rhubarb.read_tsv, "Alignment"),
        ExportFormat("rhubarb-json", ".rhubarb.json", "Rhubarb Lip Sync JSON",
                     ("alignment",), rhubarb.write_json, rhubarb.read_json, "Alignment"),
        ExportFormat("rhubarb-xml", ".rhubarb.xml", "Rhubarb Lip Sync XML", ("alignment",), rhubarb.write_xml),
        ExportFormat("moho", ".dat", "Moho / Papagayo switch data (MohoSwitch1, Preston Blair mouths)",
                     ("alignment",), moho.write),
        ExportFormat("livelink", ".livelink.csv", "Live Link Face CSV (ARKit 52 blendshapes + head/eyes)",
                     ("animation",), livelink.write, livelink.read_livelink_csv, "FrameCurves"),
        ExportFormat("audacity", ".labels.txt", "Audacity label track (start<TAB>end<TAB>label), one tier",
                     ("alignment",), audacity.write, audacity.read_audacity, "Alignment"),
        ExportFormat("oculus", ".oculus.csv", "Oculus/OpenXR 15 viseme weights per frame",
                     ("animation",), oculus.write, curves_csv.read_curves_csv, "FrameCurves"),
        ExportFormat("azure-visemes", ".azure-visemes.json",
                     "Azure Speech viseme events (VisemeId 0-21, AudioOffset in 100-ns ticks)",
                     ("alignment",), azure.write_visemes),
        ExportFormat("azure-blend", ".azure-blend.json",
                     "Azure Speech blend-shape frames: 55 weights (ARKit 52 + head/eye roll) at 60 fps",
                     ("animation",), azure.write_blendshapes),
        ExportFormat("wav", ".wav", "the result's audio as 16-bit PCM WAV", ("audio",), wav.write),
    )
})


def get_format(name: str) -> ExportFormat:
    key = name.strip().lower()
    if key not in FORMATS:
        close = closest_matches(key, FORMATS)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise InputError(f"Unknown export format {name!r}.{hint} Formats: {', '.join(FORMATS)}.")
    return FORMATS[key]


def parse_formats(spec: str | Iterable[str]) -> list[ExportFormat]:
    """``"json,csv"`` or ``["json", "csv"]`` -> formats, in order, without duplicates."""
    names = spec.split(",") if isinstance(spec, str) else list(spec)
    names = [n.strip() for n in names if n and n.strip()]
    if not names:
        raise InputError(f"No export format given; choose from {', '.join(FORMATS)}.")
    return [get_format(n) for n in dict.fromkeys(names)]


#: What an animation writes when no format is named (``AnimationResult.save``, ``visemes animate``,
#: ``visemes animate-corpus``): the whole result, the curves for a DCC tool, the timings for Praat.
DEFAULT_FORMATS: tuple[str, ...] = ("json", "csv", "textgrid")

#: Short names users type for groups of export formats.
FORMAT_ALIASES = {"rhubarb": ("rhubarb-tsv",), "tsv": ("rhubarb-tsv",), "praat": ("textgrid",),
                  "arkit": ("livelink",), "live-link": ("livelink",), "azure": ("azure-visemes", "azure-blend")}


def expand_formats(spec: str, *, has_audio: bool = True, viseme_set: str = "oculus") -> list[str]:
    """``"json,csv,rhubarb"`` -> export format names; ``all`` = every format that fits (``wav`` only with
    audio, ``oculus`` only with Oculus viseme curves)."""
    names: list[str] = []
    for raw in spec.split(","):
        name = raw.strip().lower()
        if not name:
            continue
        if name == "all":
            names += [n for n, f in FORMATS.items()
                      if (has_audio or "audio" not in f.needs) and (viseme_set == "oculus" or n != "oculus")]
        else:
            names += list(FORMAT_ALIASES.get(name, (name,)))
    return [f.name for f in parse_formats(list(dict.fromkeys(names)))]


def format_for_path(path: str | os.PathLike) -> ExportFormat | None:
    """The format whose suffix ends ``path``'s file name (longest suffix wins: ``.rhubarb.json`` over
    ``.json``), or None."""
    name = Path(path).name.lower()
    matches = [f for f in FORMATS.values() if name.endswith(f.suffix.lower())]
    return max(matches, key=lambda f: len(f.suffix)) if matches else None


def _has(parts: ExportParts, need: str) -> bool:
    return {"alignment": parts.alignment, "animation": parts.animation, "audio": parts.audio}[need] is not None


def write_all(
    result_or_parts: Exportables,
    out_dir: str | os.PathLike,
    formats: str | Iterable[str],
    *,
    stem: str = "visemes",
    overwrite: bool = False,
    options: ExportOptions | None = None,
) -> list[Path]:
    """Write ``result_or_parts`` in every format into ``out_dir`` as ``<stem><suffix>``.

    Checks everything first (known formats, inputs present, no existing file unless ``overwrite``), so
    a refused run writes nothing. Then each format is written on its own: one that fails (a rate or a
    length it cannot represent, a bug in one writer) does not stop the others, and
    :class:`~visemes.core.errors.PartialExportError` afterwards names what failed and what was written.
    A file system that refuses a write (full disk, read-only) stops the set: that is no format's fault.
    Returns the written paths in format order.
    """
    chosen = parse_formats(formats)
    parts = as_parts(result_or_parts)
    if not stem or "/" in stem or "\\" in stem:
        raise InputError(f"The file stem must be a plain file name without folders, got {stem!r}.")
    check_needs(parts, chosen)
    paths = [fmt.path_for(out_dir, stem) for fmt in chosen]
    for path in paths:
        check_writable(path, overwrite)
    written, failed = write_each(export_parts(parts, chosen, paths, options), chosen, paths, overwrite=overwrite)
    if failed:
        raise PartialExportError(written, failed)
    return written


def check_needs(result_or_parts: Exportables, chosen: Iterable[ExportFormat]) -> None:
    """ExportError before anything is written when a format needs what the result lacks (audio for wav...)."""
    parts = as_parts(result_or_parts)
    for fmt in chosen:
        missing = [n for n in fmt.needs if not _has(parts, n)]
        if missing:
            raise ExportError(f"The {fmt.name!r} format needs {' and '.join(missing)}, which this result lacks.")


def export_parts(result_or_parts: Exportables, chosen: Iterable[ExportFormat], paths: Iterable[Path],
                 options: ExportOptions | None = None) -> ExportParts:
    """What the writers get: the result's parts with ``options``, and the WAV's path when one is written."""
    parts = as_parts(result_or_parts)
    if options is not None:
        parts = dataclasses.replace(parts, options=options)
    names, paths = [f.name for f in chosen], list(paths)
    if not parts.sound_file and "wav" in names:
        # Rhubarb results name their audio (metadata.soundFile, an absolute path): the WAV written here.
        parts = dataclasses.replace(parts, sound_file=str(paths[names.index("wav")].resolve()))
    return parts


def write_each(parts: ExportParts, chosen: Iterable[ExportFormat], paths: Iterable[Path], *,
               overwrite: bool = False) -> tuple[list[Path], dict[str, str]]:
    """Each format written on its own: (paths written, format name -> why it failed). The file system
    refusing a write (:class:`~visemes.core.errors.OutputWriteError`, OSError) is raised: it is no one
    format's failure."""
    written: list[Path] = []
    failed: dict[str, str] = {}
    for fmt, path in zip(chosen, paths):
        try:
            written.append(fmt.write(parts, path, overwrite=overwrite))
        except (OutputWriteError, OSError):
            raise
        except Exception as exc:  # noqa: BLE001 - one format's failure must not cost the others
            failed[fmt.name] = failure_reason(exc)
    return written, failed


def failure_reason(exc: BaseException) -> str:
    """One line for a report: the library's own message, or the type and message of anything else."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if isinstance(exc, VisemesError):
        return text or type(exc).__name__
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def write_one(result_or_parts: Exportables, path: str | os.PathLike, fmt: str | None = None, *, overwrite: bool = False,
              options: ExportOptions | None = None) -> Path:
    """Write one file; the format comes from ``fmt`` or from the file name's suffix."""
    chosen = get_format(fmt) if fmt else format_for_path(path)
    if chosen is None:
        raise InputError(f"Cannot tell the format of {path} from its name; pass a format ({', '.join(FORMATS)}).")
    parts = as_parts(result_or_parts)
    if options is not None:
        parts = dataclasses.replace(parts, options=options)
    return chosen.write(parts, Path(path), overwrite=overwrite)


__all__ = [
    "DEFAULT_FORMATS", "ExportFormat", "ExportOptions", "ExportParts", "Exportable", "Exportables", "FORMATS", "FORMAT_ALIASES",
    "as_parts", "check_needs", "expand_formats", "export_parts", "failure_reason", "format_for_path", "get_format", "parse_formats",
    "write_all", "write_each", "write_one",
]
