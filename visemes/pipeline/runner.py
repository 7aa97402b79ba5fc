"""Animate a whole folder: parallel (local processes or a Dask cluster), resumable, with an error report.

Layout: every audio file ``IN/<rel>.<ext>`` with a transcript beside it (``<rel>.txt`` or ``<rel>.lab``;
or timings in ``<rel>.TextGrid`` / ``<rel>.alignment.json``) gets an output folder ``OUT/<rel>/`` holding
the exported formats and a ``summary.json``. A file's folder is built in a staging folder
(``OUT/.staging/``) and renamed into place only when everything in it was written, so an output folder
that exists is complete. That makes runs resumable: a file whose folder exists with a matching
``summary.json`` (same input size/mtime, same options) is skipped.

Workers do all per-file work and send back only a small summary, so the main process never holds
per-frame data, whatever the corpus size. The per-file function is pluggable (``process=``) so the
runner is independent of the pipeline and can be tested on its own.

Why Dask (``--cluster tcp://host:port``) rather than Ray: ``dask[distributed]`` is pure pip, small,
starts a LocalCluster in a second for tests, and its futures map one-to-one onto this file-per-task
design; Ray brings a large binary runtime we would use a sliver of. Workers must see IN and OUT at the
same paths (a shared filesystem), as with any file-based batch tool.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
import traceback
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from visemes.core.atomic import atomic_write_text
from visemes.core.errors import BackendUnavailableError, InputError, VisemesError

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg")  # what alignment.load_audio reads
TEXT_SUFFIXES = (".txt", ".lab")
TIMING_SUFFIXES = (".TextGrid", ".textgrid", ".alignment.json")
SUMMARY_NAME = "summary.json"
REPORT_NAME = "corpus_report.json"
STAGING_NAME = ".staging"
REPORT_FORMAT_VERSION = 1


@dataclass(frozen=True)
class CorpusOptions:
    """What to do with each file (picklable: it travels to worker processes and Dask workers)."""

    lang: str
    fps: float = 30.0
    viseme_set: str = "oculus"
    formats: tuple[str, ...] = ("json", "csv", "textgrid")
    adapter: str | None = None
    use_model: bool = True
    model: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["formats"] = list(self.formats)
        return out


@dataclass(frozen=True)
class CorpusItem:
    """One input file and where its outputs go. Paths are absolute."""

    rel: str
    audio: str
    transcript: str | None = None
    timings: str | None = None

    def fingerprint(self) -> dict[str, Any]:
        """Size and mtime of every input, to tell whether finished outputs are still current."""
        out = {}
        for key in ("audio", "transcript", "timings"):
            path = getattr(self, key)
            if path is not None:
                st = os.stat(path)
                out[key] = {"path": Path(path).name, "size": st.st_size, "mtime_ns": st.st_mtime_ns}
        return out


@dataclass(frozen=True)
class FileOutcome:
    """Result of one file: ``done`` (made now), ``skipped`` (finished earlier) or ``failed``."""

    rel: str
    audio: str
    status: str
    seconds: float = 0.0
    error_type: str | None = None
    message: str | None = None
    summary: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out = {"file": self.rel, "audio": self.audio, "status": self.status, "seconds": round(self.seconds, 3)}
        if self.status == "failed":
            out.update(error_type=self.error_type, message=self.message)
        elif self.qa_flags:
            out["qa_flags"] = list(self.qa_flags)
        return out

    @property
    def qa_flags(self) -> list[str]:
        """QA flags the per-file summary raised (finished files only)."""
        flags = self.summary.get("qa_flags") if self.summary else None
        return list(flags) if isinstance(flags, (list, tuple)) else []


@dataclass(frozen=True)
class CorpusReport:
    in_dir: str
    out_dir: str
    outcomes: tuple[FileOutcome, ...]
    seconds: float
    backend: str

    @property
    def failed(self) -> list[FileOutcome]:
        return [o for o in self.outcomes if o.status == "failed"]

    @property
    def done(self) -> list[FileOutcome]:
        return [o for o in self.outcomes if o.status == "done"]

    @property
    def skipped(self) -> list[FileOutcome]:
        return [o for o in self.outcomes if o.status == "skipped"]

    @property
    def flagged(self) -> list[FileOutcome]:
        """Finished files whose QA raised flags (e.g. transcript_mismatch): done, but worth a look."""
        return [o for o in self.outcomes if o.status != "failed" and o.qa_flags]

    @property
    def ok(self) -> bool:
        return not self.failed

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": "visemes.corpus_report",
            "format_version": REPORT_FORMAT_VERSION,
            "in_dir": self.in_dir,
            "out_dir": self.out_dir,
            "backend": self.backend,
            "seconds": round(self.seconds, 3),
            "counts": {"files": len(self.outcomes), "done": len(self.done), "skipped": len(self.skipped),
                       "failed": len(self.failed), "flagged": len(self.flagged)},
            "failed": [o.to_dict() for o in self.failed],
            "flagged": [o.to_dict() for o in self.flagged],
            "files": [o.to_dict() for o in self.outcomes],
        }


#: ``process(item, options, staging_dir) -> summary``: write the file's outputs into ``staging_dir`` and
#: return a small JSON-able summary; raise a VisemesError for a bad input.
ProcessFn = Callable[[CorpusItem, CorpusOptions, Path], Mapping[str, Any]]


# --- discovery ------------------------------------------------------------------------------------


def _is_within(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
        return True
    except ValueError:
        return False


def discover(in_dir: str | Path, out_dir: str | Path) -> list[CorpusItem]:
    """Audio files under ``in_dir`` (recursively, skipping ``out_dir`` if it lies inside) with their
    transcripts. Raises InputError for a missing folder, no audio, or outputs that would land on inputs."""
    in_dir, out_dir = Path(in_dir).resolve(), Path(out_dir).resolve()
    if not in_dir.is_dir():
        raise InputError(f"Input folder {in_dir} does not exist or is not a folder; give the folder holding the audio.")
    if out_dir == in_dir:
        raise InputError(f"The output folder is the input folder ({in_dir}); choose a separate output folder so inputs are never overwritten.")
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(f"Output path {out_dir} exists and is not a folder; choose a folder for the outputs.")
    audio = []
    for root, dirs, files in os.walk(in_dir):
        root_path = Path(root)
        # Never read our own outputs back as inputs (output folder inside the input folder).
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and not _is_within(root_path / d, out_dir))
        audio.extend(root_path / f for f in sorted(files) if Path(f).suffix.lower() in AUDIO_SUFFIXES and not f.startswith("."))
    if not audio:
        raise InputError(f"No audio files ({', '.join(AUDIO_SUFFIXES)}) found under {in_dir}.")
    inputs = set(audio)
    input_folders = {parent for path in audio for parent in path.parents}  # an output folder must not be one
    stems: dict[str, int] = {}
    for path in audio:
        stem = path.relative_to(in_dir).with_suffix("").as_posix()
        stems[stem] = stems.get(stem, 0) + 1
    items = []
    for path in audio:
        rel_path = path.relative_to(in_dir)
        stem = rel_path.with_suffix("").as_posix()
        rel = stem if stems[stem] == 1 else rel_path.as_posix()  # a.wav + a.flac: keep the suffix in the name
        transcript = next((str(path.with_suffix(s)) for s in TEXT_SUFFIXES if path.with_suffix(s).is_file()), None)
        timings = next((str(path.with_name(path.stem + s)) for s in TIMING_SUFFIXES if path.with_name(path.stem + s).is_file()), None)
        target = out_dir / rel
        if target in input_folders or target in inputs:
            raise InputError(f"The output folder for {rel} ({target}) holds input audio; choose an output folder outside the input tree.")
        items.append(CorpusItem(rel, str(path), transcript, timings))
    return items


# --- one file -------------------------------------------------------------------------------------


def read_summary(folder: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((folder / SUMMARY_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def is_finished(item: CorpusItem, options: CorpusOptions, out_dir: Path) -> bool | None:
    """True: outputs exist and are current. False: outputs exist but are stale. None: no outputs yet."""
    folder = out_dir / item.rel
    if not folder.exists():
        return None
    summary = read_summary(folder)
    if summary is None:
        return False
    return summary.get("input") == item.fingerprint() and summary.get("options") == options.to_dict()


def run_one(item: CorpusItem, options: CorpusOptions, out_dir: str, overwrite: bool, process: ProcessFn) -> FileOutcome:
    """Process one file in a staging folder and move it into place; never raises for a bad file.

    Runs in worker processes (local pool or Dask), so it must stay a top-level function.
    """
    start = time.perf_counter()
    out_root = Path(out_dir)
    target = out_root / item.rel
    state = is_finished(item, options, out_root)
    if state and not overwrite:
        return FileOutcome(item.rel, item.audio, "skipped", summary=read_summary(target) or {})
    if state is False and not overwrite:
        return FileOutcome(
            item.rel, item.audio, "failed", time.perf_counter() - start, "OutputExistsError",
            f"{target} holds outputs made from a different input or different options; pass --overwrite to redo it.",
        )
    staging = out_root / STAGING_NAME / f"{item.rel.replace('/', '__')}.{uuid.uuid4().hex[:8]}"
    try:
        staging.mkdir(parents=True)
        summary = dict(process(item, options, staging))
        summary.update(input=item.fingerprint(), options=options.to_dict())
        atomic_write_text(staging / SUMMARY_NAME, json.dumps(summary, ensure_ascii=False, indent=2))
        _move_into_place(staging, target)
        return FileOutcome(item.rel, item.audio, "done", time.perf_counter() - start, summary=summary)
    except VisemesError as exc:
        return FileOutcome(item.rel, item.audio, "failed", time.perf_counter() - start, type(exc).__name__, str(exc))
    except MemoryError:
        return FileOutcome(item.rel, item.audio, "failed", time.perf_counter() - start, "MemoryError",
                           "Ran out of memory on this file; run it alone with --jobs 1 or on a bigger worker.")
    except OSError as exc:
        return FileOutcome(item.rel, item.audio, "failed", time.perf_counter() - start, type(exc).__name__,
                           f"{exc}. Check the output folder is writable and has free space.")
    except Exception as exc:  # a bug must not sink the batch; the report carries the trace for a bug report
        tb = traceback.format_exc(limit=4)
        return FileOutcome(item.rel, item.audio, "failed", time.perf_counter() - start, type(exc).__name__,
                           f"internal error (please report it): {exc}\n{tb}")
    finally:
        with contextlib.suppress(OSError):
            shutil.rmtree(staging)


def _move_into_place(staging: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():  # only reached with overwrite=True: swap, then drop the old folder
        old = target.with_name(f".{target.name}.old-{uuid.uuid4().hex[:8]}")
        os.replace(target, old)
        os.replace(staging, target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(staging, target)


# --- the batch ------------------------------------------------------------------------------------


def default_process(item: CorpusItem, options: CorpusOptions, staging: Path) -> Mapping[str, Any]:
    """The animate pipeline on one file (imported lazily: workers pay for JAX, the main process need not)."""
    from visemes.pipeline.animator import animate_file

    return animate_file(item, options, staging)


def run_corpus(
    in_dir: str | Path,
    out_dir: str | Path,
    options: CorpusOptions,
    *,
    jobs: int = 1,
    cluster: str | None = None,
    overwrite: bool = False,
    process: ProcessFn | None = None,
    progress: bool = True,
    on_outcome: Callable[[FileOutcome], None] | None = None,
    connect_timeout: float = 30.0,
) -> CorpusReport:
    """Process every file of ``in_dir`` into ``out_dir``; write ``out_dir/corpus_report.json``.

    ``jobs``: local worker processes (1 = in this process). ``cluster``: a Dask scheduler address
    (``tcp://host:port``) or a ``distributed.Client``; files then run on its workers and ``jobs`` is unused.
    """
    process = process or default_process
    if not isinstance(jobs, int) or jobs < 1:
        raise InputError(f"--jobs must be a positive whole number, got {jobs!r}.")
    items = discover(in_dir, out_dir)
    out_path = Path(out_dir).resolve()
    try:
        out_path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"Cannot create the output folder {out_path}: {exc.strerror or exc}. Choose a writable folder.") from None
    if not os.access(out_path, os.W_OK):
        raise InputError(f"The output folder {out_path} is not writable; choose a writable folder.")
    start = time.perf_counter()
    outcomes: dict[str, FileOutcome] = {}
    backend = "local" if cluster is None and jobs == 1 else (f"processes:{jobs}" if cluster is None else "dask")
    bar = _Progress(len(items), enabled=progress)
    try:
        with bar:
            for outcome in _execute(items, options, str(out_path), overwrite, process, jobs, cluster, connect_timeout):
                outcomes[outcome.rel] = outcome
                bar.advance(outcome)
                if on_outcome is not None:
                    on_outcome(outcome)
    finally:
        # Written even when interrupted (Ctrl-C, a lost cluster) once files have run: it lists what finished.
        ordered = tuple(outcomes[i.rel] for i in items if i.rel in outcomes)
        report = CorpusReport(str(Path(in_dir).resolve()), str(out_path), ordered, time.perf_counter() - start, backend)
        if ordered or len(items) == 0:
            atomic_write_text(out_path / REPORT_NAME, json.dumps(report.to_dict(), ensure_ascii=False, indent=2),
                              overwrite=True)
        with contextlib.suppress(OSError):
            (out_path / STAGING_NAME).rmdir()  # only when empty: another run may be staging into it
    return report


def _execute(items: Sequence[CorpusItem], options: CorpusOptions, out_dir: str, overwrite: bool,
             process: ProcessFn, jobs: int, cluster: Any, connect_timeout: float) -> Iterable[FileOutcome]:
    if cluster is not None:
        yield from _execute_dask(items, options, out_dir, overwrite, process, cluster, connect_timeout)
    elif jobs == 1:
        for item in items:
            yield run_one(item, options, out_dir, overwrite, process)
    else:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor, as_completed

        # spawn, not fork: forking a process that has started JAX's thread pools can deadlock.
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=min(jobs, len(items)), mp_context=ctx) as pool:
            futures = [pool.submit(run_one, item, options, out_dir, overwrite, process) for item in items]
            try:
                for fut in as_completed(futures):
                    yield fut.result()
            except BaseException:
                for fut in futures:
                    fut.cancel()
                raise


def _execute_dask(items: Sequence[CorpusItem], options: CorpusOptions, out_dir: str, overwrite: bool,
                  process: ProcessFn, cluster: Any, connect_timeout: float) -> Iterable[FileOutcome]:
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise BackendUnavailableError(
            "--cluster needs Dask distributed; install it with `pip install 'visemes[cluster]'`."
        ) from None
    own_client = not isinstance(cluster, Client)
    if own_client:
        try:
            client = Client(cluster, timeout=connect_timeout)
        except (OSError, TimeoutError, ValueError) as exc:
            raise BackendUnavailableError(
                f"Cannot reach the Dask scheduler at {cluster!r} ({exc}); start one with `dask scheduler` "
                "and workers with `dask worker ADDRESS`, then pass its tcp://host:port."
            ) from None
    else:
        client = cluster
    try:
        futures = client.map(run_one, items, options=options, out_dir=out_dir, overwrite=overwrite,
                             process=process, pure=False)
        try:
            for fut in as_completed(futures):
                yield fut.result()
        except BaseException:
            client.cancel(futures)
            raise
    finally:
        if own_client:
            client.close()


class _Progress:
    """A rich progress bar on stderr (files done / failed / skipped), or nothing."""

    def __init__(self, total: int, enabled: bool):
        self.total, self.enabled = total, enabled
        self.failed = 0
        self._progress = None

    def __enter__(self) -> "_Progress":
        if self.enabled:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self._progress = Progress(
                TextColumn("[bold]animate-corpus"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                TextColumn("{task.fields[status]}"), console=Console(stderr=True),
            )
            self._progress.__enter__()
            self._task = self._progress.add_task("files", total=self.total, status="")
        return self

    def advance(self, outcome: FileOutcome) -> None:
        self.failed += outcome.status == "failed"
        if self._progress is not None:
            status = f"[red]{self.failed} failed" if self.failed else ""
            self._progress.update(self._task, advance=1, status=status)

    def __exit__(self, *exc: Any) -> None:
        if self._progress is not None:
            self._progress.__exit__(*exc)
