"""What a corpus is: its files (discovery), and what became of each one (outcomes, the report).

Layout, as users of MFA know it: every audio file ``IN/<rel>.wav|.flac|.ogg`` (in ``IN`` or its
sub-folders, e.g. speaker folders) with its transcript beside it (``<rel>.lab`` preferred over
``<rel>.txt``) or, for ``animate-corpus``, timings beside it (``<rel>.TextGrid`` / ``<rel>.alignment.json``).
Hidden files and folders (names starting with ``.``) are ignored.

Every input must lie inside the corpus folder: a file that is a symbolic link to somewhere outside it
is refused unless ``follow_symlinks`` (a corpus is often shared or archived as a folder, and a link out of
it makes the run read, and a later run depend on, files nobody sees in the folder). Symbolic links to
folders are never descended into (no loops).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from visemes.alignment.transcripts import TRANSCRIPT_EXTENSIONS
from visemes.core.audio import MEDIA_EXTENSIONS
from visemes.core.errors import InputError

#: Given timings beside the audio (``animate-corpus`` animates them without aligning).
TIMING_SUFFIXES = (".TextGrid", ".alignment.json")
REPORT_NAME = "corpus_report.json"
REPORT_FORMAT_VERSION = 2

#: The one status vocabulary: made in this run, finished in an earlier run (current), or failed.
Status = Literal["done", "skipped", "failed"]


@dataclass(frozen=True)
class CorpusItem:
    """One input file: ``rel`` is its path relative to the corpus folder without the audio suffix (posix)."""

    rel: str
    audio: Path
    transcript: Path | None = None
    timings: Path | None = None

    @property
    def inputs(self) -> tuple[Path, ...]:
        return tuple(p for p in (self.audio, self.transcript, self.timings) if p is not None)

    def fingerprint(self) -> dict[str, Any]:
        """Name, size and mtime of every input: whether finished outputs were made from these inputs."""
        out = {}
        for key in ("audio", "transcript", "timings"):
            path = getattr(self, key)
            if path is not None:
                st = os.stat(path)
                out[key] = {"path": path.name, "size": st.st_size, "mtime_ns": st.st_mtime_ns}
        return out


# --- discovery ------------------------------------------------------------------------------------


def check_dirs(in_dir: str | os.PathLike, out_dir: str | os.PathLike) -> tuple[Path, Path]:
    """Resolved (IN, OUT); refuses a missing IN, OUT equal to IN, and OUT that is a file.

    OUT may lie inside IN: :func:`discover` then skips it, so outputs are never read back as inputs."""
    src, dst = Path(in_dir).resolve(), Path(out_dir).resolve()
    if not src.is_dir():
        raise InputError(f"Corpus folder {in_dir} does not exist or is not a folder; give the folder holding the audio.")
    if dst == src:
        raise InputError(
            f"The output folder {out_dir} is the input folder; choose a separate output folder (e.g. {src.name}_out), "
            "so inputs are never overwritten."
        )
    if dst.exists() and not dst.is_dir():
        raise InputError(f"The output path {out_dir} exists and is not a folder; choose a folder for the outputs.")
    return src, dst


def discover(in_dir: str | os.PathLike, out_dir: str | os.PathLike | None = None, *,
             follow_symlinks: bool = False) -> list[CorpusItem]:
    """Every audio file under ``in_dir`` (not under ``out_dir``, when that lies inside) with its transcript
    and timings, in a stable order (sorted by path).

    Raises InputError for a missing folder, no audio, two audio files with one name (``a.wav`` and
    ``a.flac``), or (without ``follow_symlinks``) inputs that are links to outside the folder.
    """
    root = Path(in_dir).resolve()
    skip = Path(out_dir).resolve() if out_dir is not None else None
    if not root.is_dir():
        raise InputError(f"Corpus folder {in_dir} does not exist or is not a folder; give the folder holding the audio.")
    audio: list[Path] = []
    names: dict[Path, dict[str, str]] = {}  # per folder: lower-case name -> name (suffixes in any case)
    for folder, dirs, files in os.walk(root):  # followlinks=False: linked folders are not descended into
        here = Path(folder)
        # hidden folders, and our own outputs when OUT lies inside IN, are never inputs
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and here / d != skip)
        names[here] = {}
        for f in sorted(files):
            names[here].setdefault(f.lower(), f)
        audio.extend(here / f for f in sorted(files)
                     if not f.startswith(".") and Path(f).suffix.lower() in MEDIA_EXTENSIONS and (here / f).is_file())
    if not audio:
        raise InputError(
            f"No audio files ({', '.join(MEDIA_EXTENSIONS)}) found under {in_dir}; the corpus needs <name>.wav "
            "beside <name>.lab or <name>.txt."
        )
    items: list[CorpusItem] = []
    seen: dict[str, Path] = {}
    for path in sorted(audio, key=lambda p: p.relative_to(root).as_posix()):
        rel = path.relative_to(root).with_suffix("").as_posix()
        if rel in seen:
            raise InputError(
                f"Two audio files share the name {rel!r} ({seen[rel].name} and {path.name}); keep one per transcript."
            )
        seen[rel] = path
        here = names[path.parent]
        items.append(CorpusItem(rel, path, _beside(path, here, TRANSCRIPT_EXTENSIONS), _beside(path, here, TIMING_SUFFIXES)))
    if not follow_symlinks:
        _refuse_links_out(items, root)
    return items


def _beside(audio: Path, names: Mapping[str, str], suffixes: tuple[str, ...]) -> Path | None:
    """The first ``<stem><suffix>`` in ``names`` (the folder's files), in ``suffixes`` order, any letter case."""
    for suffix in suffixes:
        name = names.get((audio.stem + suffix).lower())
        if name is not None and (audio.parent / name).is_file():
            return audio.parent / name
    return None


def _refuse_links_out(items: list[CorpusItem], root: Path) -> None:
    outside = [(item.rel, path) for item in items for path in item.inputs if not path.resolve().is_relative_to(root)]
    if outside:
        listed = "; ".join(f"{path} -> {path.resolve()}" for _, path in outside[:5])
        more = f" and {len(outside) - 5} more" if len(outside) > 5 else ""
        raise InputError(
            f"{len(outside)} input file(s) are symbolic links to outside the corpus folder {root}: {listed}{more}. "
            "Copy those files into the corpus, or pass --follow-symlinks (follow_symlinks=True) to read them anyway."
        )


# --- outcomes and the report ----------------------------------------------------------------------


@dataclass(frozen=True)
class FileOutcome:
    """What became of one file; ``summary`` is the small JSON-able digest the job returned (never per-frame data)."""

    rel: str
    status: Status
    seconds: float = 0.0
    audio_seconds: float = 0.0
    error_type: str | None = None
    message: str | None = None
    summary: Mapping[str, Any] = field(default_factory=dict)

    @property
    def qa_flags(self) -> list[str]:
        flags = self.summary.get("qa_flags") if self.summary else None
        return list(flags) if isinstance(flags, (list, tuple)) else []

    @property
    def first_line(self) -> str:
        return (self.message or "").splitlines()[0] if self.message else ""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"file": self.rel, "status": self.status, "seconds": round(self.seconds, 3),
                               "audio_seconds": round(self.audio_seconds, 3)}
        if self.status == "failed":
            out.update(error_type=self.error_type, message=self.message)
        elif self.qa_flags:
            out["qa_flags"] = self.qa_flags
        return out


@dataclass(frozen=True)
class CorpusReport:
    """What a corpus run did, file by file (in corpus order), and how fast."""

    in_dir: str
    out_dir: str
    outcomes: tuple[FileOutcome, ...]
    seconds: float
    backend: str = ""
    notes: tuple[str, ...] = ()

    def _with(self, status: Status) -> list[FileOutcome]:
        return [o for o in self.outcomes if o.status == status]

    @property
    def done(self) -> list[FileOutcome]:
        return self._with("done")

    @property
    def skipped(self) -> list[FileOutcome]:
        return self._with("skipped")

    @property
    def failed(self) -> list[FileOutcome]:
        return self._with("failed")

    @property
    def flagged(self) -> list[FileOutcome]:
        """Finished files whose QA raised flags (e.g. transcript_mismatch): done, but worth a look."""
        return [o for o in self.outcomes if o.status != "failed" and o.qa_flags]

    @property
    def ok(self) -> bool:
        return not self.failed

    @property
    def audio_seconds(self) -> float:
        """Audio processed in this run (skipped files excluded)."""
        return sum(o.audio_seconds for o in self.outcomes if o.status != "skipped")

    @property
    def realtime_factor(self) -> float:
        """Seconds of audio processed per second of wall time ("x real time")."""
        return self.audio_seconds / self.seconds if self.seconds > 0 else 0.0

    def summary(self, details: bool = True) -> str:
        """Counts, speed, notes, then (``details``) every flagged and every failed file, one line each."""
        lines = [
            f"{len(self.outcomes)} files: {len(self.done)} done, {len(self.failed)} failed, {len(self.skipped)} skipped"
            f" (already done) | {self.audio_seconds:.1f} s of audio in {self.seconds:.1f} s wall time"
            f" ({self.realtime_factor:.1f}x real time)" + (f" | backend {self.backend}" if self.backend else "")
        ]
        lines.extend(self.notes)
        if not details:
            return "\n".join(lines)
        if self.flagged:
            lines.append(f"Flagged by QA ({len(self.flagged)}):")
            lines.extend(f"  {o.rel}: {', '.join(o.qa_flags)}" for o in self.flagged)
        if self.failed:
            lines.append(f"Failed ({len(self.failed)}):")
            lines.extend(f"  {o.rel}: {o.error_type}: {o.first_line}" for o in self.failed)
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": "visemes.corpus_report",
            "format_version": REPORT_FORMAT_VERSION,
            "in_dir": self.in_dir,
            "out_dir": self.out_dir,
            "backend": self.backend,
            "seconds": round(self.seconds, 3),
            "audio_seconds": round(self.audio_seconds, 3),
            "counts": {"files": len(self.outcomes), "done": len(self.done), "skipped": len(self.skipped),
                       "failed": len(self.failed), "flagged": len(self.flagged)},
            "notes": list(self.notes),
            "failed": [o.to_dict() for o in self.failed],
            "flagged": [o.to_dict() for o in self.flagged],
            "files": [o.to_dict() for o in self.outcomes],
        }
