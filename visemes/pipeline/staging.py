"""Where a corpus run's outputs go, and how they get there atomically and resumably.

A file's outputs are built in an empty folder ``OUT/.staging/<process>.<hex>/`` and moved into place only
when every one of them was written, so an output that exists is complete. On a rerun, a file whose
outputs exist and are current (made from the same inputs, and options where the layout records them) is
skipped; outputs made from other inputs are refused unless ``overwrite``.

One run at a time writes into an output folder: :func:`claim` holds an exclusive lock on
``OUT/.staging/.lock`` for the run's length, so every other entry in ``.staging`` at that point was left
by a run that was killed, and is removed. The same call proves the folder writable before any work.

Two layouts:

* :class:`FolderLayout` (``animate-corpus``): ``OUT/<rel>/`` holds the file's exports and a
  ``summary.json`` recording the inputs' fingerprint and the options, which decide "current";
* :class:`FilesLayout` (``align-corpus``, MFA style): ``OUT/<rel><suffix>`` per format; current means
  every output exists and none is older than an input (a TextGrid has no room for a stamp).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

from visemes.core.atomic import atomic_write_text
from visemes.core.errors import InputError
from visemes.pipeline.corpus import CorpusItem

STAGING_NAME = ".staging"
LOCK_NAME = ".lock"
SUMMARY_NAME = "summary.json"

State = Literal["missing", "current", "stale"]


class OutputLayout(Protocol):
    """Where one file's outputs go under OUT, and whether finished ones are current."""

    def stem(self, item: CorpusItem) -> str:
        """File name stem the job writes its outputs under in the staging folder."""
        ...

    def targets(self, out_dir: Path, item: CorpusItem) -> list[Path]: ...

    def state(self, out_dir: Path, item: CorpusItem, stamp: Mapping[str, Any]) -> State: ...

    def finished_summary(self, out_dir: Path, item: CorpusItem) -> dict[str, Any]: ...

    def place(self, out_dir: Path, item: CorpusItem, staging: Path, summary: Mapping[str, Any],
              stamp: Mapping[str, Any], overwrite: bool) -> None: ...


@dataclass(frozen=True)
class FolderLayout:
    """``OUT/<rel>/<stem><suffix>`` + ``OUT/<rel>/summary.json``; the folder is renamed into place whole."""

    file_stem: str = "visemes"

    def stem(self, item: CorpusItem) -> str:
        return self.file_stem

    def targets(self, out_dir: Path, item: CorpusItem) -> list[Path]:
        return [out_dir / item.rel]

    def state(self, out_dir: Path, item: CorpusItem, stamp: Mapping[str, Any]) -> State:
        folder = out_dir / item.rel
        if not folder.exists():
            return "missing"
        summary = read_summary(folder)
        if summary is None:
            return "stale"
        current = summary.get("input") == item.fingerprint() and summary.get("options") == dict(stamp)
        return "current" if current else "stale"

    def finished_summary(self, out_dir: Path, item: CorpusItem) -> dict[str, Any]:
        return read_summary(out_dir / item.rel) or {}

    def place(self, out_dir: Path, item: CorpusItem, staging: Path, summary: Mapping[str, Any],
              stamp: Mapping[str, Any], overwrite: bool) -> None:
        record = {**summary, "input": item.fingerprint(), "options": dict(stamp)}
        atomic_write_text(staging / SUMMARY_NAME, json.dumps(record, ensure_ascii=False, indent=2))
        target = out_dir / item.rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():  # only reached with overwrite: swap, then drop the old folder
            old = target.with_name(f".{target.name}.old-{uuid.uuid4().hex[:8]}")
            os.replace(target, old)
            os.replace(staging, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(staging, target)


@dataclass(frozen=True)
class FilesLayout:
    """``OUT/<rel><suffix>`` for each suffix (one file per format, as MFA writes them)."""

    suffixes: tuple[str, ...]

    def stem(self, item: CorpusItem) -> str:
        return Path(item.rel).name

    def targets(self, out_dir: Path, item: CorpusItem) -> list[Path]:
        return [out_dir / (item.rel + suffix) for suffix in self.suffixes]

    def state(self, out_dir: Path, item: CorpusItem, stamp: Mapping[str, Any]) -> State:
        present = [p for p in self.targets(out_dir, item) if p.exists()]
        newest_input = max(p.stat().st_mtime_ns for p in item.inputs)
        if any(p.stat().st_mtime_ns < newest_input for p in present):
            return "stale"
        return "current" if len(present) == len(self.suffixes) else "missing"

    def finished_summary(self, out_dir: Path, item: CorpusItem) -> dict[str, Any]:
        return {}

    def place(self, out_dir: Path, item: CorpusItem, staging: Path, summary: Mapping[str, Any],
              stamp: Mapping[str, Any], overwrite: bool) -> None:
        stem = self.stem(item)
        for suffix, target in zip(self.suffixes, self.targets(out_dir, item)):
            if target.exists() and not overwrite:
                continue  # resuming a file whose other format was placed before the interruption
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staging / (stem + suffix), target)


def read_summary(folder: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((folder / SUMMARY_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


#: Empty staging folders of this process, by ``OUT/.staging``, for the next file: removing a folder costs
#: 1-3 ms on ext4 (measured), as much as writing a file's TextGrid, and align-corpus does it once per file.
_SPARE: dict[Path, list[Path]] = {}


def staging_folder(out_dir: Path, item: CorpusItem) -> Path:
    """An empty ``OUT/.staging/<process>.<hex>`` for one file: a spare one this process emptied before, or
    a new one. Hand it back with :func:`release_staging`."""
    spare = _SPARE.get(out_dir / STAGING_NAME)
    while spare:
        folder = spare.pop()
        if folder.is_dir():  # a long-lived (Dask) worker's spare may have been cleared by a later run
            return folder
    folder = out_dir / STAGING_NAME / f"p{os.getpid()}.{uuid.uuid4().hex[:8]}"
    folder.mkdir(parents=True)
    return folder


def release_staging(folder: Path) -> None:
    """After a file: an empty staging folder (its outputs moved into place) is kept for the next file of this
    process, anything else is removed (a failed file's partial outputs; a folder renamed into place is gone)."""
    try:
        with os.scandir(folder) as entries:
            empty = next(entries, None) is None
    except OSError:
        return
    if empty:
        _SPARE.setdefault(folder.parent, []).append(folder)
    else:
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def claim(out_dir: Path) -> Iterator[Sequence[str]]:
    """Create OUT, prove it writable, lock it for this run and remove what killed runs left in staging.

    Yields the names of the stale staging entries it removed. Raises InputError when OUT cannot be
    created or written, or another run holds it.
    """
    staging = out_dir / STAGING_NAME
    try:
        staging.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".probe-", dir=staging)  # a real write: os.access lies for root and ACLs
        os.close(fd)
        os.unlink(probe)
        lock = open(staging / LOCK_NAME, "a+b")  # noqa: SIM115 - held open for the whole run
    except OSError as exc:
        raise InputError(
            f"Cannot write into the output folder {out_dir} ({exc.strerror or exc}); choose a writable folder "
            "(nothing was processed)."
        ) from None
    try:
        try:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise InputError(
                f"Another run is writing into {out_dir} (it holds {staging / LOCK_NAME}); wait for it to finish or "
                "choose another output folder."
            ) from None
        removed = []
        for entry in sorted(os.listdir(staging)):
            if entry != LOCK_NAME:
                path = staging / entry
                shutil.rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink()
                removed.append(entry)
        yield removed
    finally:
        # the run's spare (empty) staging folders, of this process and of its workers, which have stopped
        _SPARE.pop(staging, None)
        with contextlib.suppress(OSError):
            for entry in os.listdir(staging):
                with contextlib.suppress(OSError):
                    (staging / entry).rmdir()  # only when empty
        with contextlib.suppress(OSError):
            (staging / LOCK_NAME).unlink()
        lock.close()
        with contextlib.suppress(OSError):
            staging.rmdir()  # only when empty
