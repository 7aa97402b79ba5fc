"""The one corpus runner (``align-corpus`` and ``animate-corpus``): parallel, resumable, with a full report.

A :class:`CorpusJob` says what to do with a file once it is aligned (write TextGrids; or curves and
exports) and where its outputs go (an :class:`~visemes.pipeline.staging.OutputLayout`); the runner
does the rest, the same way for every job:

1. discover the corpus (:mod:`visemes.pipeline.corpus`), claim the output folder (writable, locked,
   stale staging removed: :mod:`visemes.pipeline.staging`), skip files whose outputs are current;
2. align, best way first:

   * the aligner is :class:`~visemes.alignment.base.CorpusAdaptive` (the built-in one): workers
     ``prepare`` *every* file of the corpus that needs aligning, also those finished in an earlier run,
     so the result never depends on where a run was interrupted; this process ``adapt``s once on the
     pooled list, in corpus order; workers ``decode`` the remaining files (in batches when the aligner
     has ``decode_many``) with the adapted parameters;
   * a :class:`~visemes.alignment.base.BatchAligner` (MFA): one external run over the remaining files;
   * otherwise each worker ``align``s its files one by one;

3. a worker hands each aligned file to ``job.finish`` in a staging folder and moves the outputs into
   place, then sends back a small :class:`~visemes.pipeline.corpus.FileOutcome`.

The main process holds the prepared alignment features while it adapts (pooling needs them), never
curves or exports. Workers run on :mod:`visemes.pipeline.executors` (this process, a local pool, or
Dask). Progress goes to a :class:`Progress` (the CLI renders it); the report is written to
``OUT/corpus_report.json`` even when the run is interrupted.
"""

from __future__ import annotations

import collections
import json
import time
import traceback
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from visemes.alignment.base import (
    Aligner,
    BatchAligner,
    BatchItem,
    CorpusAdaptive,
    check_result,
)
from visemes.core.atomic import atomic_write_text
from visemes.core.audio import audio_duration, load_audio
from visemes.core.errors import (
    AlignmentError,
    BackendUnavailableError,
    InputError,
    VisemesError,
)
from visemes.core.timeline import Alignment, Transcript
from visemes.pipeline.corpus import (
    REPORT_NAME,
    CorpusItem,
    CorpusReport,
    FileOutcome,
    check_dirs,
    discover,
)
from visemes.pipeline.executors import (
    Executor,
    InProcess,
    check_picklable,
    default_jobs,
    open_executor,
)
from visemes.pipeline.staging import OutputLayout, claim, release_staging, staging_folder

# --- the two interfaces: what a job does with a file, and who hears about progress -------------------


@dataclass(frozen=True)
class Aligned:
    """An aligned file for ``job.finish``: the alignment and the transcript it was aligned to."""

    alignment: Alignment
    transcript: Transcript


class CorpusJob(Protocol):
    """What to do with each file of a corpus. Must be picklable: it travels to every worker once."""

    #: For messages and the progress display, e.g. ``"align-corpus"``.
    name: str
    #: The aligner for files that need aligning (None: no file does).
    aligner: Aligner | None
    layout: OutputLayout

    def check(self) -> None:
        """Cheap checks, once, before any file (unknown language, aligner not installed): raise VisemesError."""
        ...

    def stamp(self) -> Mapping[str, Any]:
        """The options that made an output; a layout that records them redoes files made with others."""
        ...

    def needs_alignment(self, item: CorpusItem) -> bool: ...

    def transcript(self, item: CorpusItem) -> Transcript:
        """The file's transcript (TranscriptError when it has none)."""
        ...

    def finish(self, item: CorpusItem, aligned: Aligned | None, staging: Path, stem: str) -> Mapping[str, Any]:
        """Write the file's outputs into ``staging`` as ``<stem><suffix>``; return a small JSON-able summary
        (``duration``, ``qa_flags``...). ``aligned`` is None for a file that needs no alignment."""
        ...


class Progress(Protocol):
    """Told what the runner is doing; the CLI draws it (phases: preparing, adapting, then the job's name)."""

    def phase(self, name: str, total: int) -> None: ...

    def advance(self, outcome: FileOutcome | None = None) -> None:
        """One unit of the current phase finished (``outcome``: a file's final result)."""
        ...


class NoProgress:
    def phase(self, name: str, total: int) -> None:
        pass

    def advance(self, outcome: FileOutcome | None = None) -> None:
        pass


# --- what travels to the workers, and what they run ----------------------------------------------------


@dataclass(frozen=True)
class _Work:
    job: CorpusJob
    out_dir: Path
    overwrite: bool


@dataclass(frozen=True)
class _Prepared:
    """One file's prepared features (or why preparing failed)."""

    item: CorpusItem
    features: Any = None
    transcript: Transcript | None = None
    audio_seconds: float = 0.0
    failure: FileOutcome | None = None


def _load(work: _Work, item: CorpusItem) -> tuple[Transcript, Any, int, float]:
    transcript = work.job.transcript(item)
    aligner = work.job.aligner
    audio, rate = load_audio(item.audio, target_rate=aligner.sample_rate if aligner is not None else None)
    return transcript, audio, rate, audio.shape[0] / rate


def _failure(item: CorpusItem, exc: BaseException, started: float, audio_seconds: float = 0.0) -> FileOutcome:
    seconds = time.perf_counter() - started
    audio_seconds = audio_seconds or audio_duration(item.audio)
    if isinstance(exc, VisemesError):
        message = str(exc)
    elif isinstance(exc, MemoryError):
        message = "Ran out of memory on this file; run it alone with --jobs 1 or on a bigger worker."
    elif isinstance(exc, OSError):
        message = f"{exc}. Check the output folder is writable and has free space."
    else:  # a bug must not sink the batch; the report carries the trace for a bug report
        message = f"internal error (please report it): {exc}\n{traceback.format_exc(limit=4)}"
    return FileOutcome(item.rel, "failed", seconds, audio_seconds, type(exc).__name__, message)


def _produce(work: _Work, item: CorpusItem, aligned: Aligned | None, started: float,
             audio_seconds: float = 0.0) -> FileOutcome:
    """``job.finish`` in a staging folder, then the outputs moved into place; never raises for a bad file."""
    staging = None
    try:
        staging = staging_folder(work.out_dir, item)
        summary = dict(work.job.finish(item, aligned, staging, work.job.layout.stem(item)))
        work.job.layout.place(work.out_dir, item, staging, summary, work.job.stamp(), work.overwrite)
        duration = summary.get("duration")
        audio_seconds = audio_seconds or (float(duration) if isinstance(duration, (int, float)) else 0.0)
        return FileOutcome(item.rel, "done", time.perf_counter() - started, audio_seconds, summary=summary)
    except Exception as exc:  # noqa: BLE001 - one bad file is reported, the run goes on
        return _failure(item, exc, started, audio_seconds)
    finally:
        if staging is not None:
            release_staging(staging)


def _task_one(work: _Work, item: CorpusItem) -> list[FileOutcome]:
    """A file without pooling: aligned on its own (when it needs it), then finished."""
    started = time.perf_counter()
    if not work.job.needs_alignment(item):
        return [_produce(work, item, None, started)]
    seconds = 0.0
    try:
        transcript, audio, rate, seconds = _load(work, item)
        alignment = work.job.aligner.align(audio, rate, transcript)  # type: ignore[union-attr]
    except Exception as exc:  # noqa: BLE001 - one bad file is reported, the run goes on
        return [_failure(item, exc, started, seconds)]
    return [_produce(work, item, Aligned(alignment, transcript), started, seconds)]


def _task_prepare(work: _Work, item: CorpusItem) -> list[_Prepared]:
    started, seconds = time.perf_counter(), 0.0
    try:
        transcript, audio, rate, seconds = _load(work, item)
        features = work.job.aligner.prepare(audio, rate, transcript)  # type: ignore[union-attr]
        return [_Prepared(item, features, transcript, seconds)]
    except Exception as exc:  # noqa: BLE001 - one bad file is reported, the run goes on
        return [_Prepared(item, failure=_failure(item, exc, started, seconds))]


#: Threads that read audio and compute features in this process (jobs=1). Decoding the audio, resampling
#: and the feature program release the GIL, and a feature call waits on XLA's thread: a second thread
#: runs while the first waits. Measured on the 2-core machine (all 532 VoxAngeles dev files, load ~11):
#: preparing took 2.8-3.9 s in one thread, 0.8 s in two, with less CPU time (0.82 vs 1.0-1.1 s).
PREPARE_THREADS = 2


def _prepare_in_threads(work: _Work, items: Sequence[CorpusItem]) -> Iterator[_Prepared]:
    """:func:`_task_prepare` for every item, in corpus order: transcripts one after the other in this
    thread (G2P libraries are not all thread-safe), audio and features in :data:`PREPARE_THREADS` threads."""
    aligner = work.job.aligner

    def rest(item: CorpusItem, transcript: Transcript, started: float) -> _Prepared:
        seconds = 0.0
        try:
            audio, rate = load_audio(item.audio, target_rate=aligner.sample_rate if aligner is not None else None)
            seconds = audio.shape[0] / rate
            return _Prepared(item, aligner.prepare(audio, rate, transcript), transcript, seconds)  # type: ignore[union-attr]
        except Exception as exc:  # noqa: BLE001 - one bad file is reported, the run goes on
            return _Prepared(item, failure=_failure(item, exc, started, seconds))

    def ready(entry: Future[_Prepared] | _Prepared) -> bool:
        return not isinstance(entry, Future) or entry.done()

    with ThreadPoolExecutor(PREPARE_THREADS, thread_name_prefix="visemes-prepare") as pool:
        pending: collections.deque[Future[_Prepared] | _Prepared] = collections.deque()
        for item in items:
            started = time.perf_counter()
            try:
                transcript = work.job.transcript(item)
            except Exception as exc:  # noqa: BLE001 - as in _task_prepare
                pending.append(_Prepared(item, failure=_failure(item, exc, started)))
            else:
                pending.append(pool.submit(rest, item, transcript, started))
            while pending and ready(pending[0]):  # finished files leave in corpus order, as they come
                entry = pending.popleft()
                yield entry.result() if isinstance(entry, Future) else entry
        for entry in pending:
            yield entry.result() if isinstance(entry, Future) else entry


def _task_decode(work: _Work, task: tuple[Sequence[_Prepared], Any]) -> list[FileOutcome]:
    """Decode a chunk with the adapted ``params`` and finish each file: in one ``decode_many`` call when
    the aligner has it (batched decoding is much faster for JAX), else, or if the batch fails, one by one."""
    chunk, params = task
    aligner = work.job.aligner
    started = time.perf_counter()
    decode_many = getattr(aligner, "decode_many", None)
    alignments: list[Any] = []
    if callable(decode_many) and len(chunk) > 1:
        try:
            alignments = list(decode_many([p.features for p in chunk], params))
        except Exception:  # noqa: BLE001 - find the bad file by decoding one at a time below
            alignments = []
    out = []
    for i, prep in enumerate(chunk):
        one_started = started if len(alignments) == len(chunk) else time.perf_counter()
        try:
            alignment = alignments[i] if len(alignments) == len(chunk) else aligner.decode(prep.features, params)  # type: ignore[union-attr]
            aligned = Aligned(check_result(alignment, prep.transcript, aligner.name), prep.transcript)  # type: ignore[union-attr,arg-type]
        except Exception as exc:  # noqa: BLE001 - one bad file is reported, the run goes on
            out.append(_failure(prep.item, exc, one_started, prep.audio_seconds))
            continue
        out.append(_produce(work, prep.item, aligned, one_started, prep.audio_seconds))
    return out


def _died(item: CorpusItem, reason: str) -> FileOutcome:
    return FileOutcome(item.rel, "failed", 0.0, audio_duration(item.audio), "WorkerDied", reason)


def _chunks(entries: Sequence[Any], width: int, most: int = 16) -> list[list[Any]]:
    """A few chunks per worker (load balance), at most ``most`` files each (memory)."""
    size = max(1, min(most, -(-len(entries) // (max(1, width) * 4))))
    return [list(entries[i : i + size]) for i in range(0, len(entries), size)]


# --- the run -------------------------------------------------------------------------------------------


def run_corpus(
    in_dir: str | Path,
    out_dir: str | Path,
    job: CorpusJob,
    *,
    jobs: int | None = None,
    cluster: Any = None,
    overwrite: bool = False,
    follow_symlinks: bool = False,
    progress: Progress | None = None,
    connect_timeout: float = 30.0,
) -> CorpusReport:
    """Run ``job`` on every file of the corpus in ``in_dir``, outputs under ``out_dir`` (see the module doc).

    ``jobs``: local worker processes (1 = in this process; None = :func:`default_jobs` for this machine).
    ``cluster``: a Dask scheduler address (``tcp://host:port``) or a ``distributed.Client``; files then
    run on its workers (``jobs`` then only goes to a batch aligner such as MFA).
    """
    jobs = default_jobs() if jobs is None else jobs
    if not isinstance(jobs, int) or isinstance(jobs, bool) or jobs < 1:
        raise InputError(f"--jobs must be a whole number >= 1, got {jobs!r}.")
    progress = progress or NoProgress()
    src, dst = check_dirs(in_dir, out_dir)
    items = discover(src, dst, follow_symlinks=follow_symlinks)
    for item in items:
        for path in job.layout.targets(dst, item):
            if path == dst / REPORT_NAME:
                raise InputError(f"The output of {item.audio.name} would be {path}, where the run's report goes; "
                                 "rename that input file.")
            # IN inside OUT, under a folder a file's name starts with (OUT inside IN is fine: it is not scanned)
            if src not in dst.parents and (src == path.resolve() or src in path.resolve().parents):
                raise InputError(
                    f"The output {path} would be written inside the input folder {in_dir}; choose an output folder "
                    "that does not contain the corpus."
                )
    job.check()
    work = _Work(job, dst, overwrite)
    if cluster is None and jobs > 1 and len(items) > 1:
        check_picklable(work, f"{job.name} job (aligner {getattr(job.aligner, 'name', None)!r})")
    started = time.perf_counter()
    outcomes: dict[str, FileOutcome] = {}
    notes: list[str] = []
    backend = ""
    with claim(dst) as stale:
        if stale:
            notes.append(f"Removed {len(stale)} unfinished staging folder(s) left by an interrupted run.")
        todo = _sort_out(job, items, dst, overwrite, outcomes)
        try:
            if todo:
                with open_executor(work, jobs=jobs, cluster=cluster, n_tasks=len(items),
                                   connect_timeout=connect_timeout) as executor:
                    backend = executor.backend
                    _align_and_finish(work, executor, items, todo, jobs, progress, outcomes, notes)
        finally:
            # Written even when interrupted (Ctrl-C, a lost cluster) once files have run: it lists what finished.
            ordered = tuple(outcomes[i.rel] for i in items if i.rel in outcomes)
            aligner = getattr(job.aligner, "name", "")
            report = CorpusReport(str(src), str(dst), ordered, time.perf_counter() - started,
                                  " ".join(x for x in (aligner, backend) if x), tuple(notes))
            if ordered:
                atomic_write_text(dst / REPORT_NAME, json.dumps(report.to_dict(), ensure_ascii=False, indent=2),
                                  overwrite=True)
    return report


def _sort_out(job: CorpusJob, items: Sequence[CorpusItem], out_dir: Path, overwrite: bool,
              outcomes: dict[str, FileOutcome]) -> list[CorpusItem]:
    """Record skipped (current) and refused (stale) files; return the files to do, in corpus order."""
    stamp = job.stamp()
    todo = []
    for item in items:
        state = job.layout.state(out_dir, item, stamp)
        if state == "current" and not overwrite:
            outcomes[item.rel] = FileOutcome(item.rel, "skipped", summary=job.layout.finished_summary(out_dir, item))
        elif state == "stale" and not overwrite:
            targets = ", ".join(str(p) for p in job.layout.targets(out_dir, item))
            outcomes[item.rel] = FileOutcome(
                item.rel, "failed", error_type="OutputExistsError",
                message=f"{targets} holds outputs made from a different input or different options; pass "
                        "--overwrite to redo it.")
        else:
            todo.append(item)
    return todo


def _align_and_finish(work: _Work, executor: Executor, items: Sequence[CorpusItem], todo: list[CorpusItem],
                      jobs: int, progress: Progress, outcomes: dict[str, FileOutcome], notes: list[str]) -> None:
    job = work.job
    aligned_todo = [it for it in todo if job.needs_alignment(it)]
    others = [it for it in todo if not job.needs_alignment(it)]
    if aligned_todo and isinstance(job.aligner, CorpusAdaptive):
        _pooled(work, executor, items, todo, progress, outcomes, notes)
        return
    if aligned_todo and isinstance(job.aligner, BatchAligner):
        progress.phase(job.name, len(todo))
        _batch(work, aligned_todo, jobs, progress, outcomes)
        todo = others
    else:
        progress.phase(job.name, len(todo))
    # biggest files first, so one long file does not finish alone at the end
    ordered = sorted(todo, key=lambda it: it.audio.stat().st_size, reverse=True)
    for outcome in executor.run(_task_one, [(it, [it]) for it in ordered], _died):
        _record(outcome, progress, outcomes)


def _record(outcome: FileOutcome, progress: Progress, outcomes: dict[str, FileOutcome]) -> None:
    outcomes[outcome.rel] = outcome
    progress.advance(outcome)


def _pooled(work: _Work, executor: Executor, items: Sequence[CorpusItem], todo: list[CorpusItem],
            progress: Progress, outcomes: dict[str, FileOutcome], notes: list[str]) -> None:
    job = work.job
    todo_rels = {it.rel for it in todo}
    # Every file of the corpus that needs aligning joins the pool, finished or not: the adapted
    # parameters, and so every alignment, are the same however often a run was interrupted.
    pool = [it for it in items if job.needs_alignment(it)]
    progress.phase("preparing", len(pool))
    prepared: dict[str, _Prepared] = {}
    if isinstance(executor, InProcess) and PREPARE_THREADS > 1:
        results: Iterator[_Prepared] = _prepare_in_threads(work, pool)
    else:
        results = executor.run(_task_prepare, [(it, [it]) for it in pool],
                               lambda item, reason: _Prepared(item, failure=_died(item, reason)))
    for prep in results:
        if prep.failure is None:
            prepared[prep.item.rel] = prep
        elif prep.item.rel in todo_rels:  # a finished file that no longer prepares stays finished
            _record(prep.failure, progress, outcomes)
            continue
        progress.advance()
    order = [it.rel for it in pool if it.rel in prepared]  # corpus order: independent of finishing order
    remaining = [prepared[rel] for rel in order if rel in todo_rels]
    others = [it for it in todo if not job.needs_alignment(it)]
    params = None
    if remaining:
        progress.phase(f"adapting on {len(order)} files", 1)
        adapt_started = time.perf_counter()
        try:
            params = job.aligner.adapt([prepared[rel].features for rel in order])  # type: ignore[union-attr]
        except Exception as exc:  # noqa: BLE001 - reported against every file; the run still ends with a report
            error = AlignmentError(f"corpus adaptation failed: {type(exc).__name__}: {exc}")
            for prep in remaining:
                _record(_failure(prep.item, error, adapt_started, prep.audio_seconds), progress, outcomes)
            remaining = []
        else:
            progress.advance()
            earlier = len(order) - len(remaining)
            notes.append(f"Adapted on {len(order)} files pooled from the corpus"
                         + (f" ({earlier} of them finished in an earlier run)." if earlier else "."))
    prepared.clear()  # the chunks below hold what is still needed
    progress.phase(job.name, len(remaining) + len(others))
    remaining.sort(key=lambda p: p.audio_seconds, reverse=True)  # long files first: no lone straggler
    tasks: list[tuple[Any, Sequence[Any]]] = [((chunk, params), [p.item for p in chunk])
                                               for chunk in _chunks(remaining, executor.width)]
    for outcome in executor.run(_task_decode, tasks, _died):
        _record(outcome, progress, outcomes)
    for outcome in executor.run(_task_one, [(it, [it]) for it in others], _died):
        _record(outcome, progress, outcomes)


def _batch(work: _Work, todo: list[CorpusItem], jobs: int, progress: Progress,
           outcomes: dict[str, FileOutcome]) -> None:
    """One external run (MFA) over the files, then each finished here (alignments are small)."""
    job = work.job
    batch: list[BatchItem] = []
    loaded: dict[str, tuple[CorpusItem, Transcript, float]] = {}
    started = time.perf_counter()
    for item in todo:
        try:
            transcript = job.transcript(item)
            audio, rate = load_audio(item.audio)  # checks the file before the external tool sees it
            loaded[item.rel] = (item, transcript, audio.shape[0] / rate)
            batch.append(BatchItem(item.rel, item.audio, transcript))
        except Exception as exc:  # noqa: BLE001 - one bad file is reported, the run goes on
            _record(_failure(item, exc, started), progress, outcomes)
    if not batch:
        return
    try:
        results = job.aligner.align_many(batch, jobs=jobs)  # type: ignore[union-attr]
    except VisemesError as exc:
        results = {entry.key: exc for entry in batch}
    for entry in batch:
        item, transcript, seconds = loaded[entry.key]
        result = results.get(entry.key) or AlignmentError("the backend returned nothing for this file")
        if isinstance(result, Alignment):
            try:
                aligned = Aligned(check_result(result, transcript, job.aligner.name), transcript)  # type: ignore[union-attr]
            except VisemesError as exc:
                _record(_failure(item, exc, started, seconds), progress, outcomes)
                continue
            _record(_produce(work, item, aligned, started, seconds), progress, outcomes)
        else:
            _record(_failure(item, result, started, seconds), progress, outcomes)


def check_aligner(aligner: Aligner) -> None:
    if not aligner.is_available():
        raise BackendUnavailableError(f"Aligner {aligner.name!r} is not available: {aligner.unavailable_reason()}")


__all__ = ["Aligned", "CorpusJob", "NoProgress", "Progress", "check_aligner", "run_corpus"]
