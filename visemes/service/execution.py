"""Running one job: the only place the service calls the pipeline.

:class:`JobRunner` is the seam: ``submit(spec, run_id) -> Future`` of a :class:`RunOutcome`. The local
runner is a process pool around :func:`run_job` (the pipeline's per-file work:
``visemes.pipeline.animator.animate`` then the exports); :class:`DaskRunner` sends the same function
to a Dask cluster. Another backend (the corpus runner, say) only has to offer the same two methods.

A job's files are written into ``<job folder>/.staging-<run id>/`` and that folder is renamed to
``<job folder>/out-<run id>/`` when everything in it is written, so outputs appear all at once; the
database records which ``out-*`` folder belongs to the job only when the outcome is stored.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
import shutil
import threading
import time
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from visemes.core.errors import BackendUnavailableError, VisemesError
from visemes.pipeline.animator import animate

STEM = "visemes"  # outputs are <out folder>/visemes<suffix>; a download names them after the job


@dataclass(frozen=True)
class JobSpec:
    """What to run (JSON in the database; picklable for worker processes). Paths are the server's."""

    job_dir: str
    lang: str | None
    audio: str | None = None          # an upload inside job_dir, or a server-side path inside the allowed root
    timings: str | None = None        # given timings (TextGrid / alignment JSON) uploaded into job_dir
    text: str | None = None
    phones: str | None = None
    fps: float = 30.0
    viseme_set: str = "oculus"
    use_model: bool = False  # the rules measure closer to real mouths (README, docs/benchmarks.md)
    formats: tuple[str, ...] = ("json",)
    plot: bool = False
    preview: bool = False
    name: str = "visemes"             # what downloads are called (sanitised); never a path

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["formats"] = list(self.formats)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "JobSpec":
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        known["formats"] = tuple(known.get("formats", ("json",)))
        return cls(**known)


@dataclass(frozen=True)
class RunOutcome:
    """What a run sends back: small (a summary), never per-frame data."""

    ok: bool
    output_dir: str | None = None      # the out-* folder name inside the job folder
    summary: dict[str, Any] | None = None
    timings: dict[str, float] = field(default_factory=dict)
    error_type: str | None = None
    error: str | None = None


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
                         fps=spec.fps, viseme_set=spec.viseme_set, use_model=spec.use_model, name=spec.name)
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


class JobRunner(Protocol):
    """Runs jobs somewhere; the worker needs only these."""

    capacity: int

    def submit(self, spec: JobSpec, run_id: str) -> "cf.Future[RunOutcome]": ...

    def shutdown(self) -> None: ...


class LocalRunner:
    """A pool of ``workers`` local processes (spawned: JAX and threads do not survive fork). A crashed
    worker process breaks the pool; the next submit makes a new one (the crashed job is reported failed)."""

    def __init__(self, workers: int = 1):
        self.capacity = max(1, int(workers))
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

    def submit(self, spec: JobSpec, run_id: str) -> "cf.Future[RunOutcome]":
        return self._executor().submit(run_job, spec, run_id)

    def shutdown(self, grace_seconds: float = 2.0) -> None:
        """Stop the pool and its processes now (the worker has put their jobs back in the queue); a
        process still busy with a job is terminated, not waited for."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is None:
            return
        processes = list((getattr(pool, "_processes", None) or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for proc in processes:
            proc.join(grace_seconds / max(1, len(processes)))
            if proc.is_alive():
                proc.terminate()
                proc.join(grace_seconds)


class DaskRunner:
    """Jobs on a Dask cluster (``visemes serve --cluster tcp://host:8786``). The workers must see the job
    folders at the same paths (a shared filesystem), as with ``animate-corpus --cluster``."""

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

    def submit(self, spec: JobSpec, run_id: str) -> "cf.Future[RunOutcome]":
        done: cf.Future = cf.Future()
        remote = self._client.submit(run_job, spec, run_id, pure=False)

        def relay(fut: Any) -> None:  # a Dask future -> the concurrent.futures one the worker waits on
            try:
                done.set_result(fut.result())
            except BaseException as exc:
                done.set_exception(exc)

        remote.add_done_callback(relay)
        return done

    def shutdown(self) -> None:
        self._client.close()
