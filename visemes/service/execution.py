"""Running jobs: the only place the service calls the pipeline.

:class:`JobRunner` is the seam: ``submit(specs, run_ids) -> Future`` of one :class:`RunOutcome` per job.
The worker hands it a *group*: the jobs of one batch that align the same way (audio with a transcript
or timings, one language: :func:`pooled`), or a single job. :func:`run_group` runs a group

* through the corpus runner of ``animate-corpus`` (:mod:`visemes.service.pooled`): the aligner is adapted
  once on the group's pooled files, so a batch gives exactly what ``animate-corpus`` gives on the
  same files;
* or, for a job that corpus runner cannot express (text-only speech synthesis, IPA phones, timings
  without audio), through :func:`run_job` (``visemes.pipeline.animator.animate`` then the exports).

The local runner is a process pool around :func:`run_group`; :class:`DaskRunner` sends the same function
to a Dask cluster (a group is one task: its pooled adaptation needs all its files in one place).

A job's files are written into a staging folder and renamed to ``<job folder>/out-<run id>/`` when
everything in it is written, so outputs appear all at once; the database records which ``out-*``
folder belongs to the job only when the outcome is stored.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import multiprocessing
import os
import shutil
import signal
import threading
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from visemes.core.errors import BackendUnavailableError, VisemesError
from visemes.pipeline.animator import animate
from visemes.service.jobspec import STEM, JobSpec, RunOutcome, pooled
from visemes.service.pooled import run_pooled


def run_job(spec: JobSpec, run_id: str) -> RunOutcome:
    """Animate one job into its staging folder, then rename that into place. Errors come back as values
    (an exception object may not survive the trip between processes)."""
    t0 = time.perf_counter()
    job_dir = Path(spec.job_dir)
    staging = job_dir / f".staging-{run_id}"
    final = job_dir / f"out-{run_id}"
    try:
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        result = animate(spec.audio, text=spec.text, phones=spec.phones, alignment=spec.timings, lang=spec.lang,
                         fps=spec.fps, viseme_set=spec.viseme_set, use_model=spec.use_model, model=spec.model,
                         adapter=spec.adapter, name=spec.name)
        t1 = time.perf_counter()
        formats = [f for f in spec.formats if f != "wav" or result.audio is not None]
        written = result.save(staging, formats, stem=STEM, plot=spec.plot, preview=spec.preview, summary=True)
        t2 = time.perf_counter()
        summary = result.summary(written)
        os.rename(staging, final)  # atomic: the outputs appear together
        return RunOutcome(True, final.name, summary,
                          {"animate_seconds": round(t1 - t0, 4), "write_seconds": round(t2 - t1, 4)})
    except VisemesError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        return RunOutcome(False, error_type=type(exc).__name__, error=str(exc),
                          timings={"animate_seconds": round(time.perf_counter() - t0, 4)})
    except Exception as exc:  # a bug, not bad input: keep the traceback's last lines for the operator
        shutil.rmtree(staging, ignore_errors=True)
        tail = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)[-3:])
        return RunOutcome(False, error_type="InternalError", error=f"{type(exc).__name__}: {exc}\n{tail}")


def run_group(specs: Sequence[JobSpec], run_ids: Sequence[str], jobs: int = 1) -> list[RunOutcome]:
    """Run one group (see the module doc): the corpus runner for pooled jobs (with ``jobs`` worker
    processes, as ``animate-corpus --jobs``), else one job on its own."""
    specs, run_ids = list(specs), list(run_ids)
    if len(specs) == 1 and not pooled(specs[0]):
        return [run_job(specs[0], run_ids[0])]
    return run_pooled(specs, run_ids, jobs=jobs)


class JobRunner(Protocol):
    """Runs groups of jobs somewhere; the worker needs only these.

    ``capacity``: worker processes (slots); ``splits``: whether a group may use several of them (the
    corpus runner's own process pool), so that one batch runs as ``animate-corpus --jobs N`` would."""

    capacity: int
    splits: bool

    def submit(self, specs: Sequence[JobSpec], run_ids: Sequence[str], jobs: int = 1) -> "cf.Future[list[RunOutcome]]":
        """Run one group (:func:`run_group`) on ``jobs`` slots; the future holds one outcome per job, in order."""
        ...

    def shutdown(self) -> None: ...


class LocalRunner:
    """``workers`` slots: a pool of local processes, each running one group at a time; a group given
    several slots runs the corpus runner's own pool of that many processes beside it (spawned: JAX and threads do not survive fork). A crashed
    worker process breaks the pool; the next submit makes a new one (the crashed job is reported failed)."""

    def __init__(self, workers: int = 1):
        self.capacity = max(1, int(workers))
        self.splits = True
        self._ctx = multiprocessing.get_context("spawn")
        self._lock = threading.Lock()
        self._pool: cf.ProcessPoolExecutor | None = None

    def _executor(self) -> cf.ProcessPoolExecutor:
        with self._lock:
            if self._pool is None or getattr(self._pool, "_broken", False):
                if self._pool is not None:
                    self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = cf.ProcessPoolExecutor(max_workers=self.capacity, mp_context=self._ctx)
            return self._pool

    def submit(self, specs: Sequence[JobSpec], run_ids: Sequence[str], jobs: int = 1) -> "cf.Future[list[RunOutcome]]":
        return self._executor().submit(run_group, list(specs), list(run_ids), jobs)

    def shutdown(self, grace_seconds: float = 2.0) -> None:
        """Stop the pool and its processes now (the worker has put their jobs back in the queue); a
        process still busy with a job is terminated, not waited for."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is None:
            return
        processes = list((getattr(pool, "_processes", None) or {}).values())
        # a corpus run's own pool (a group on several slots) would outlive its parent: end it too
        children = [c for proc in processes if proc.pid for c in _descendants(proc.pid)]
        pool.shutdown(wait=False, cancel_futures=True)
        for proc in processes:
            proc.join(grace_seconds / max(1, len(processes)))
            if proc.is_alive():
                proc.terminate()
                proc.join(grace_seconds)
        for pid in children:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGTERM)


def _descendants(pid: int) -> list[int]:
    """Child processes of ``pid``, recursively (Linux /proc; elsewhere none are found)."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children", encoding="ascii") as fh:
            kids = [int(k) for k in fh.read().split()]
    except (OSError, ValueError):
        return []
    return [d for k in kids for d in (k, *_descendants(k))]


class DaskRunner:
    """Jobs on a Dask cluster (``visemes serve --cluster tcp://host:8786``), one group per task. The workers
    must see the job folders at the same paths (a shared filesystem), as with ``animate-corpus --cluster``."""

    def __init__(self, address: str, capacity: int | None = None, connect_timeout: float = 30.0):
        try:
            from dask.distributed import Client  # heavy optional dependency (the [cluster] extra)
        except ImportError:
            raise BackendUnavailableError("--cluster needs Dask: pip install 'visemes[cluster]'.") from None
        try:
            self._client = Client(address, timeout=connect_timeout)
        except (OSError, TimeoutError) as exc:
            raise BackendUnavailableError(f"Cannot reach the Dask scheduler at {address} ({exc}); start it with "
                                          "`dask scheduler` and workers with `dask worker ADDRESS`.") from None
        threads = sum(w.get("nthreads", 1) for w in self._client.scheduler_info()["workers"].values())
        self.capacity = capacity or max(1, threads)
        self.splits = False

    def submit(self, specs: Sequence[JobSpec], run_ids: Sequence[str], jobs: int = 1) -> "cf.Future[list[RunOutcome]]":
        done: cf.Future = cf.Future()
        # one task per group on one Dask worker (it holds the pooled features while adapting)
        remote = self._client.submit(run_group, list(specs), list(run_ids), 1, pure=False)

        def relay(fut: Any) -> None:  # a Dask future -> the concurrent.futures one the worker waits on
            try:
                done.set_result(fut.result())
            except BaseException as exc:
                done.set_exception(exc)

        remote.add_done_callback(relay)
        return done

    def shutdown(self) -> None:
        self._client.close()


__all__ = ["STEM", "DaskRunner", "JobRunner", "JobSpec", "LocalRunner", "RunOutcome", "run_group", "run_job"]
