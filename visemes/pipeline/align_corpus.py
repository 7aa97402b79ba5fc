"""Align a whole corpus laid out as MFA users know it, in parallel, resumably.

Layout: ``<name>.wav|.flac|.ogg`` beside ``<name>.lab`` or ``<name>.txt``, in ``IN_DIR`` or its
sub-folders (speaker folders); outputs mirror the layout under ``OUT_DIR`` as ``<name>.TextGrid`` and/or
``<name>.json``.

How a backend is driven, best first:

1. :class:`~alignment.base.CorpusAdaptive` (the built-in aligner): worker processes ``prepare`` every
   file (audio, G2P, features), the main process ``adapt``s once on the pooled list of all files, then
   workers ``decode`` each file with the adapted parameters and write its outputs.
2. :class:`~alignment.base.BatchAligner` (MFA): one external run over the whole corpus.
3. Otherwise each worker ``align``s its files one by one.

A bad file is reported and the run goes on; files whose outputs all exist are skipped unless
``overwrite``; every output is written atomically. Workers start with ``forkserver`` (or ``spawn``)
because JAX's threads do not survive ``fork``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import multiprocessing
import os
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from visemes.core.audio import AUDIO_EXTENSIONS, audio_duration, load_audio
from visemes.alignment.base import Aligner, BatchAligner, BatchItem, CorpusAdaptive, check_result
from visemes.alignment.transcripts import TRANSCRIPT_EXTENSIONS, read_transcript_file
from visemes.core.atomic import atomic_write_text
from visemes.core.errors import BackendUnavailableError, InputError, VisemesError
from visemes.core.timeline import Alignment, Transcript

#: Output formats and the file suffix each writes.
FORMATS = {"textgrid": ".TextGrid", "json": ".json"}

Status = Literal["ok", "failed", "skipped"]


@dataclass(frozen=True)
class CorpusItem:
    """One utterance: ``key`` is its path relative to the corpus root, without extension (posix)."""

    key: str
    audio_path: Path
    transcript_path: Path | None


@dataclass(frozen=True)
class FileResult:
    key: str
    status: Status
    error: str = ""
    audio_seconds: float = 0.0
    confidence: float | None = None
    mismatch: bool = False


@dataclass(frozen=True)
class CorpusReport:
    """What :func:`align_corpus` did, file by file, and how fast."""

    results: tuple[FileResult, ...]
    wall_seconds: float
    backend: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)

    def _with(self, status: Status) -> list[FileResult]:
        return [r for r in self.results if r.status == status]

    @property
    def ok(self) -> list[FileResult]:
        return self._with("ok")

    @property
    def failed(self) -> list[FileResult]:
        return self._with("failed")

    @property
    def skipped(self) -> list[FileResult]:
        return self._with("skipped")

    @property
    def audio_seconds(self) -> float:
        """Audio processed in this run (skipped files excluded)."""
        return sum(r.audio_seconds for r in self.results if r.status != "skipped")

    @property
    def realtime_factor(self) -> float:
        """Seconds of audio aligned per second of wall time ("x real time")."""
        return self.audio_seconds / self.wall_seconds if self.wall_seconds > 0 else 0.0

    def summary(self, max_failures: int = 50) -> str:
        lines = [
            f"{len(self.results)} files: {len(self.ok)} ok, {len(self.failed)} failed, {len(self.skipped)} skipped"
            f" (already done) | {self.audio_seconds:.1f} s of audio in {self.wall_seconds:.1f} s wall time"
            f" ({self.realtime_factor:.1f}x real time)" + (f" | backend {self.backend}" if self.backend else "")
        ]
        flagged = [r.key for r in self.ok if r.mismatch]
        if flagged:
            lines.append(f"{len(flagged)} aligned files look like their transcript does not match the audio: "
                         + ", ".join(flagged[:10]) + (" ..." if len(flagged) > 10 else ""))
        lines.extend(self.notes)
        if self.failed:
            lines.append("Failed:")
            lines.extend(f"  {r.key}: {r.error}" for r in self.failed[:max_failures])
            if len(self.failed) > max_failures:
                lines.append(f"  ... and {len(self.failed) - max_failures} more")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "backend": self.backend,
            "files": len(self.results),
            "ok": len(self.ok),
            "failed": len(self.failed),
            "skipped": len(self.skipped),
            "audio_seconds": self.audio_seconds,
            "wall_seconds": self.wall_seconds,
            "realtime_factor": self.realtime_factor,
            "results": [dataclasses.asdict(r) for r in self.results],
        }


# --- discovery ------------------------------------------------------------------------------------


def discover_corpus(in_dir: str | os.PathLike) -> list[CorpusItem]:
    """Every audio file under ``in_dir`` with its transcript (``.lab`` preferred over ``.txt``), sorted.

    Audio without a transcript is listed with ``transcript_path=None`` (the runner reports it).
    Hidden files and folders (names starting with ``.``) are ignored.
    """
    root = Path(in_dir)
    if not root.is_dir():
        raise InputError(f"Corpus folder {root} does not exist or is not a folder.")
    items: list[CorpusItem] = []
    seen: dict[str, Path] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if any(part.startswith(".") for part in rel.parts) or not path.is_file():
            continue
        if path.suffix.lower() not in AUDIO_EXTENSIONS:
            continue
        key = rel.with_suffix("").as_posix()
        if key in seen:
            raise InputError(
                f"Two audio files share the name {key!r} ({seen[key].name} and {path.name}); keep one per "
                "transcript."
            )
        seen[key] = path
        transcript = next(
            (cand for ext in TRANSCRIPT_EXTENSIONS for cand in _with_ext(path, ext) if cand.is_file()), None
        )
        items.append(CorpusItem(key, path, transcript))
    return items


def _with_ext(path: Path, ext: str) -> list[Path]:
    return [path.with_suffix(ext), path.with_suffix(ext.upper())]


def output_paths(out_dir: Path, key: str, formats: Sequence[str]) -> dict[str, Path]:
    return {fmt: out_dir / (key + FORMATS[fmt]) for fmt in formats}


def check_dirs(in_dir: Path, out_dir: Path) -> None:
    """Refuse to write into the input corpus (outputs would mix with, and be read as, inputs)."""
    src, dst = in_dir.resolve(), out_dir.resolve()
    if dst == src or src in dst.parents:
        raise InputError(
            f"The output folder {out_dir} is {'the input folder' if dst == src else 'inside the input folder'} "
            f"{in_dir}; choose an output folder outside the corpus (e.g. {in_dir.resolve().name}_aligned)."
        )
    if dst.exists() and not dst.is_dir():
        raise InputError(f"The output path {out_dir} exists and is not a folder.")


def parse_formats(value: str | Sequence[str]) -> tuple[str, ...]:
    names = [v.strip().lower() for v in (value.split(",") if isinstance(value, str) else value) if v.strip()]
    unknown = [n for n in names if n not in FORMATS]
    if unknown or not names:
        raise InputError(f"Unknown output format(s) {unknown or value!r}; choose from {', '.join(FORMATS)}.")
    return tuple(dict.fromkeys(names))


# --- per-process worker state --------------------------------------------------------------------


@dataclass
class _Job:
    """Everything a worker needs; built once per process (the aligner can be large)."""

    aligner: Aligner
    lang: str | None
    ipa: bool
    out_dir: Path
    formats: tuple[str, ...]
    overwrite: bool
    pack: Any = None

    def __getstate__(self) -> dict[str, Any]:
        # each process loads its own language pack (it may hold native G2P handles)
        return {**self.__dict__, "pack": None}

    def transcript(self, item: CorpusItem) -> Transcript:
        if item.transcript_path is None:
            exts = " or ".join(TRANSCRIPT_EXTENSIONS)
            raise InputError(f"No transcript beside {item.audio_path.name}; add {item.key}{exts} next to it.")
        if not self.ipa and self.pack is None and self.lang:
            from visemes import lang_packs

            self.pack = lang_packs.load(self.lang)
        return read_transcript_file(item.transcript_path, ipa=self.ipa, lang=self.lang, pack=self.pack)

    def load(self, item: CorpusItem) -> tuple[Any, int, Transcript, float]:
        transcript = self.transcript(item)
        audio, rate = load_audio(item.audio_path, target_rate=self.aligner.sample_rate)
        return audio, rate, transcript, audio.shape[0] / rate

    def write(self, item: CorpusItem, alignment: Alignment) -> None:
        alignment = alignment.with_meta(
            **{k: v for k, v in (("source", item.audio_path.name), ("aligner", self.aligner.name),
                                 ("lang", self.lang)) if v and k not in alignment.meta}
        )
        for fmt, path in output_paths(self.out_dir, item.key, self.formats).items():
            if path.exists() and not self.overwrite:
                continue  # resuming a file whose other format was written before the interruption
            if fmt == "textgrid":
                from visemes.core.textgrid import write_textgrid

                write_textgrid(alignment, path, overwrite=self.overwrite)
            else:
                atomic_write_text(path, alignment.to_json() + "\n", overwrite=self.overwrite)


# A worker process holds its job here, set once by the pool initializer (process-local state is
# the standard way to give ProcessPoolExecutor workers a large object without re-sending it per task).
_WORKER: dict[str, _Job] = {}


def _init_worker(job: _Job) -> None:
    _WORKER["job"] = job


def _in_worker(fn: Callable[..., Any], *args: Any) -> Any:
    return fn(_WORKER["job"], *args)


def _ok(item: CorpusItem, alignment: Alignment, seconds: float) -> FileResult:
    confidence = alignment.meta.get("confidence")
    return FileResult(
        item.key, "ok", audio_seconds=seconds,
        confidence=float(confidence) if isinstance(confidence, (int, float)) else None,
        mismatch=bool(alignment.meta.get("mismatch", False)),
    )


def _failure(item: CorpusItem, exc: BaseException, seconds: float = 0.0) -> FileResult:
    seconds = seconds or audio_duration(item.audio_path)
    if isinstance(exc, VisemesError):
        return FileResult(item.key, "failed", f"{type(exc).__name__}: {exc}", seconds)
    # an unexpected error in one file (a backend bug) must not stop the corpus; keep its type for the report
    return FileResult(item.key, "failed", f"unexpected {type(exc).__name__}: {exc}", seconds)


def _task_align(job: _Job, item: CorpusItem) -> list[FileResult]:
    seconds = 0.0
    try:
        audio, rate, transcript, seconds = job.load(item)
        alignment = job.aligner.align(audio, rate, transcript)
        job.write(item, alignment)
        return [_ok(item, alignment, seconds)]
    except Exception as exc:  # noqa: BLE001 - one bad file is reported, the run goes on
        return [_failure(item, exc, seconds)]


def _task_prepare(job: _Job, item: CorpusItem) -> list[tuple[FileResult, Any]]:
    seconds = 0.0
    try:
        audio, rate, transcript, seconds = job.load(item)
        prepared = job.aligner.prepare(audio, rate, transcript)  # type: ignore[attr-defined]
        return [(FileResult(item.key, "ok", audio_seconds=seconds), (prepared, transcript))]
    except Exception as exc:  # noqa: BLE001 - one bad file is reported, the run goes on
        return [(_failure(item, exc, seconds), None)]


def _task_decode(
    job: _Job, work: tuple[Sequence[tuple[CorpusItem, tuple[Any, Transcript], float]], Any]
) -> list[FileResult]:
    """Decode a chunk of files with the adapted ``params``: in one ``decode_many`` call when the
    backend has it (batched decoding is much faster for JAX), else, or if the batch fails, one by one."""
    chunk, params = work
    decode_many = getattr(job.aligner, "decode_many", None)
    if callable(decode_many) and len(chunk) > 1:
        try:
            alignments = list(decode_many([prep for _, (prep, _), _ in chunk], params))
        except Exception:  # noqa: BLE001 - find the bad file by decoding one at a time below
            alignments = []
        if len(alignments) == len(chunk):
            out = []
            for (item, (_, transcript), seconds), alignment in zip(chunk, alignments):
                try:
                    job.write(item, check_result(alignment, transcript, job.aligner.name))
                    out.append(_ok(item, alignment, seconds))
                except Exception as exc:  # noqa: BLE001
                    out.append(_failure(item, exc, seconds))
            return out
    out = []
    for item, (prepared, transcript), seconds in chunk:
        try:
            alignment = check_result(job.aligner.decode(prepared, params), transcript, job.aligner.name)  # type: ignore[attr-defined]
            job.write(item, alignment)
            out.append(_ok(item, alignment, seconds))
        except Exception as exc:  # noqa: BLE001 - one bad file is reported, the run goes on
            out.append(_failure(item, exc, seconds))
    return out


# --- running tasks in-process or in a pool ----------------------------------------------------------


def _mp_context() -> multiprocessing.context.BaseContext:
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


@contextlib.contextmanager
def _workers(job: _Job, jobs: int, n_tasks: int) -> Iterator[ProcessPoolExecutor | None]:
    """A pool of ``jobs`` worker processes holding ``job``, or None to work in this process.

    One pool serves every phase of a run, so each worker imports the backend (and JAX compiles) once.
    """
    if jobs <= 1 or n_tasks <= 1:
        yield None
        return
    from multiprocessing.reduction import ForkingPickler

    try:
        ForkingPickler.dumps(job)  # what the pool will send each worker: fail here, clearly, not per file
    except Exception as exc:  # noqa: BLE001 - pickle raises several types
        raise InputError(
            f"The {job.aligner.name or type(job.aligner).__name__!r} aligner cannot be sent to worker processes "
            f"({type(exc).__name__}: {exc}); run with jobs=1 (--jobs 1) or make the aligner picklable."
        ) from None
    with ProcessPoolExecutor(
        max_workers=min(jobs, n_tasks), mp_context=_mp_context(), initializer=_init_worker, initargs=(job,)
    ) as pool:
        try:
            yield pool
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise


def _run(
    job: _Job,
    pool: ProcessPoolExecutor | None,
    fn: Callable[..., list[Any]],
    tasks: Sequence[tuple[Any, list[CorpusItem]]],
    on_broken: Callable[[CorpusItem, str], Any],
) -> Iterator[Any]:
    """Run ``fn(job, arg)`` for each (arg, items) task, in ``pool`` or here when it is None.

    Each call returns one result per item of its task; results are yielded as tasks finish. If a worker
    dies, ``on_broken(item, reason)`` stands in for the results of the items it held.
    """
    if pool is None:
        for arg, _ in tasks:
            yield from fn(job, arg)
        return
    futures: dict[Future, list[CorpusItem]] = {pool.submit(_in_worker, fn, arg): items for arg, items in tasks}
    for future in as_completed(futures):
        try:
            batch = future.result()
        except BrokenProcessPool as exc:
            reason = f"a worker process died ({exc or 'killed'}); it may have run out of memory - try fewer --jobs"
            batch = [on_broken(item, reason) for item in futures[future]]
        yield from batch


def _died(item: CorpusItem, reason: str) -> FileResult:
    return FileResult(item.key, "failed", reason, audio_duration(item.audio_path))


def _chunks(entries: list[Any], jobs: int, most: int = 16) -> list[list[Any]]:
    """Split into chunks: a few per worker (load balance), at most ``most`` files each (memory)."""
    size = max(1, min(most, -(-len(entries) // (max(1, jobs) * 4))))
    return [entries[i : i + size] for i in range(0, len(entries), size)]


@contextlib.contextmanager
def _progress_bar(enabled: bool) -> Iterator[Callable[[str, int], Callable[[], None]]]:
    """Yields ``phase(description, total) -> advance()``; a rich bar on stderr when enabled."""
    if not enabled:
        yield lambda description, total: (lambda: None)
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        TimeRemainingColumn(), console=Console(stderr=True),
    ) as bar:

        def phase(description: str, total: int) -> Callable[[], None]:
            task = bar.add_task(description, total=total)
            return lambda: bar.advance(task)

        yield phase


# --- the runner ---------------------------------------------------------------------------------


def align_corpus(
    in_dir: str | os.PathLike,
    out_dir: str | os.PathLike,
    aligner: Aligner,
    *,
    lang: str | None = None,
    ipa: bool = False,
    jobs: int = 1,
    overwrite: bool = False,
    formats: str | Sequence[str] = ("textgrid",),
    progress: bool = False,
) -> CorpusReport:
    """Align every file of the corpus in ``in_dir``; write outputs under ``out_dir`` (see module doc).

    ``lang`` phonemizes orthographic transcripts; with ``ipa`` the transcripts hold IPA phones (then
    ``lang`` only labels the output). ``jobs`` worker processes (1 = in this process).
    """
    started = time.perf_counter()
    in_path, out_path = Path(in_dir), Path(out_dir)
    check_dirs(in_path, out_path)
    formats = parse_formats(formats)
    if not ipa and not lang:
        raise InputError("Give --lang CODE to phonemize the corpus's text transcripts, or --ipa for IPA ones.")
    if not isinstance(jobs, int) or jobs < 1:
        raise InputError(f"jobs must be a whole number >= 1, got {jobs!r}.")
    if not aligner.is_available():
        raise BackendUnavailableError(f"Aligner {aligner.name!r} is not available: {aligner.unavailable_reason()}")
    if not ipa:
        from visemes import lang_packs

        lang_packs.load(lang or "")  # fail once, early, on an unknown language instead of once per file
    items = discover_corpus(in_path)
    if not items:
        raise InputError(
            f"No audio files ({', '.join(AUDIO_EXTENSIONS)}) found under {in_path}; the corpus needs "
            "<name>.wav beside <name>.lab or <name>.txt."
        )
    src = in_path.resolve()
    for item in items:  # only possible when IN_DIR lies inside OUT_DIR, under a folder a key starts with
        for path in output_paths(out_path, item.key, formats).values():
            if src in path.resolve().parents:
                raise InputError(
                    f"The output {path} would be written inside the input folder {in_path}; choose an output "
                    "folder that does not contain the corpus."
                )
    results: dict[str, FileResult] = {}
    todo: list[CorpusItem] = []
    for item in items:
        paths = output_paths(out_path, item.key, formats).values()
        if not overwrite and all(p.exists() for p in paths):
            results[item.key] = FileResult(item.key, "skipped")
        else:
            todo.append(item)
    # biggest files first, so one long file does not finish alone at the end
    todo.sort(key=lambda it: it.audio_path.stat().st_size, reverse=True)
    job = _Job(aligner, lang, ipa, out_path, formats, overwrite)
    notes: list[str] = []
    with _progress_bar(progress and bool(todo)) as phase:
        if isinstance(aligner, CorpusAdaptive) and todo:
            notes.extend(_run_adaptive(job, todo, jobs, phase, results))
        elif isinstance(aligner, BatchAligner) and todo:
            _run_batch(job, todo, jobs, phase("aligning", len(todo)), results)
        elif todo:
            advance = phase("aligning", len(todo))
            with _workers(job, jobs, len(todo)) as pool:
                for result in _run(job, pool, _task_align, [(it, [it]) for it in todo], _died):
                    results[result.key] = result
                    advance()
    ordered = tuple(results[item.key] for item in items)
    return CorpusReport(ordered, time.perf_counter() - started, aligner.name, tuple(notes))


def _run_adaptive(
    job: _Job, todo: list[CorpusItem], jobs: int, phase: Callable[[str, int], Callable[[], None]],
    results: dict[str, FileResult],
) -> list[str]:
    with _workers(job, jobs, len(todo)) as pool:
        prepared: dict[str, tuple[CorpusItem, Any, float]] = {}
        by_key = {it.key: it for it in todo}
        advance = phase("preparing", len(todo))
        for result, features in _run(job, pool, _task_prepare, [(it, [it]) for it in todo],
                                     lambda item, reason: (_died(item, reason), None)):
            if result.status == "ok":
                prepared[result.key] = (by_key[result.key], features, result.audio_seconds)
            else:
                results[result.key] = result
            advance()
        if not prepared:
            return []
        # the pooled adaptation: every prepared file of the corpus, in corpus order, in one call, here
        order = [it.key for it in todo if it.key in prepared]
        adapted = phase(f"adapting on {len(order)} files", 1)
        try:
            params = job.aligner.adapt([prepared[key][1][0] for key in order])  # type: ignore[attr-defined]
            adapted()
        except Exception as exc:  # noqa: BLE001 - reported against every file; the run still ends with a summary
            for key in order:
                results[key] = FileResult(key, "failed", f"corpus adaptation failed: {type(exc).__name__}: {exc}",
                                          prepared[key][2])
            return []
        # a few chunks per worker, each sent with the adapted parameters (small next to the features)
        chunks = _chunks([prepared[key] for key in order], jobs)
        prepared.clear()  # the chunks hold the features now; drop the second reference
        advance = phase("decoding", len(order))
        tasks = [((chunk, params), [entry[0] for entry in chunk]) for chunk in chunks]
        for result in _run(job, pool, _task_decode, tasks, _died):
            results[result.key] = result
            advance()
    return [f"Adapted on {len(order)} files pooled from the corpus."]


def _run_batch(
    job: _Job, todo: list[CorpusItem], jobs: int, advance: Callable[[], None], results: dict[str, FileResult]
) -> None:
    batch: list[BatchItem] = []
    by_key: dict[str, tuple[CorpusItem, float]] = {}
    for item in todo:
        try:
            transcript = job.transcript(item)
            audio, rate = load_audio(item.audio_path)  # checks the file before the external tool sees it
            by_key[item.key] = (item, audio.shape[0] / rate)
            batch.append(BatchItem(item.key, item.audio_path, transcript))
        except Exception as exc:  # noqa: BLE001 - one bad file is reported, the run goes on
            results[item.key] = _failure(item, exc)
            advance()
    if not batch:
        return
    try:
        aligned = job.aligner.align_many(batch, jobs=jobs)  # type: ignore[attr-defined]
    except VisemesError as exc:
        aligned = {entry.key: exc for entry in batch}
    for entry in batch:
        item, seconds = by_key[entry.key]
        outcome = aligned.get(entry.key) or KeyError("the backend returned nothing for this file")
        if isinstance(outcome, Alignment):
            try:
                job.write(item, check_result(outcome, entry.transcript, job.aligner.name))
                results[entry.key] = _ok(item, outcome, seconds)
            except Exception as exc:  # noqa: BLE001
                results[entry.key] = _failure(item, exc, seconds)
        else:
            results[entry.key] = _failure(item, outcome, seconds)
        advance()

