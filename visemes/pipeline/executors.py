"""Where a corpus run's tasks execute: in this process, a local process pool, or a Dask cluster.

A task is ``fn(work, arg) -> list`` with one result per file it covers; ``work`` (the job, the output
folder, the flags) is sent to each worker once. Results come back as tasks finish. A worker that dies
(out of memory, killed) turns into one failure per file of its task, from ``on_broken``; the run goes on.

Local workers start with ``forkserver`` (else ``spawn``): JAX's threads do not survive ``fork``.

Why Dask (``--cluster tcp://host:port``) rather than Ray: ``dask[distributed]`` is pure pip, small,
starts a LocalCluster in a second for tests, and its futures map one-to-one onto these tasks; Ray
brings a large binary runtime we would use a sliver of. Workers must see IN and OUT at the same paths
(a shared filesystem), as with any file-based batch tool.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from multiprocessing.reduction import ForkingPickler
from typing import Any, Protocol

from visemes.core.errors import BackendUnavailableError, InputError

#: One task: its argument, and the files it covers (for the failures of a dead worker).
Task = tuple[Any, Sequence[Any]]
OnBroken = Callable[[Any, str], Any]


def default_jobs(cores: int | None = None) -> int:
    """Worker processes when ``--jobs`` is not given: this process up to 2 cores, else one per 2 cores.

    Measured on the 2-core development machine (2026-12-04, load average 8-11 from other jobs), each a
    fresh ``python benchmarks/align_corpus.py ../shared/devdata/voxangeles_dev --langs ces --jobs N``
    (42 files, 44.8 s of audio, built-in aligner): jobs=1 16.3 s and 8.7 s, jobs=2 36.8 s and 19.1 s
    (the issue: 7.7 s vs 15.5 s). Each worker process pays its own imports and JAX compilation, and JAX's
    CPU kernels already run on several threads, so a second process only competes for the two cores.
    Above 2 cores (not measured here) one worker per 2 cores leaves each a spare thread for those kernels.
    Again with the CLI's compile cache warm (2026-12-04, all 532 VoxAngeles dev files, load 10-11, 3 fresh
    runs each): jobs=1 median 14.1 s, jobs=2 27.1 s; the cache saves the workers' compiles, not their imports.
    """
    cores = cores or _cores()
    return 1 if cores <= 2 else cores // 2


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))  # the cores this process may use (containers, taskset)
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class Executor(Protocol):
    backend: str
    width: int  # how many tasks run at once

    def run(self, fn: Callable[..., list[Any]], tasks: Sequence[Task], on_broken: OnBroken) -> Iterator[Any]:
        """Yield every result of every task, as tasks finish."""
        ...


class InProcess:
    backend = "local"
    width = 1  # how many tasks run at once (sizes the decoding chunks)

    def __init__(self, work: Any) -> None:
        self.work = work

    def run(self, fn: Callable[..., list[Any]], tasks: Sequence[Task], on_broken: OnBroken) -> Iterator[Any]:
        for arg, _ in tasks:
            yield from fn(self.work, arg)


# A worker process holds the run's work here, set once by the pool initializer (process-local state is
# the standard way to give ProcessPoolExecutor workers a large object without re-sending it per task).
_WORKER: dict[str, Any] = {}


def _init_worker(work: Any) -> None:
    _WORKER["work"] = work


def _in_worker(fn: Callable[..., list[Any]], arg: Any) -> list[Any]:
    return fn(_WORKER["work"], arg)


def _mp_context() -> multiprocessing.context.BaseContext:
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


class LocalPool:
    """``jobs`` worker processes; one pool serves every phase, so each worker imports and compiles once."""

    def __init__(self, work: Any, jobs: int) -> None:
        self.backend = f"processes:{jobs}"
        self.width = jobs
        self.pool = ProcessPoolExecutor(max_workers=jobs, mp_context=_mp_context(), initializer=_init_worker,
                                        initargs=(work,))

    def run(self, fn: Callable[..., list[Any]], tasks: Sequence[Task], on_broken: OnBroken) -> Iterator[Any]:
        futures: dict[Future, Sequence[Any]] = {self.pool.submit(_in_worker, fn, arg): items for arg, items in tasks}
        try:
            for future in as_completed(futures):
                try:
                    batch = future.result()
                except BrokenProcessPool as exc:
                    reason = f"a worker process died ({exc or 'killed'}); it may have run out of memory - try fewer --jobs"
                    batch = [on_broken(item, reason) for item in futures[future]]
                yield from batch
        except BaseException:
            for future in futures:
                future.cancel()
            raise


class DaskExecutor:
    """Tasks on a Dask cluster; the run's work is scattered to every worker once."""

    backend = "dask"

    def __init__(self, work: Any, client: Any) -> None:
        self.client = client
        self.work = client.scatter(work, broadcast=True, hash=False)
        self.width = max(1, sum(w.get("nthreads", 1) for w in client.scheduler_info().get("workers", {}).values()))

    def run(self, fn: Callable[..., list[Any]], tasks: Sequence[Task], on_broken: OnBroken) -> Iterator[Any]:
        # the optional `cluster` extra (imported only for a cluster run)
        from distributed import as_completed as dask_completed

        futures = {self.client.submit(fn, self.work, arg, pure=False): items for arg, items in tasks}
        try:
            for future in dask_completed(list(futures)):
                try:
                    batch = future.result()
                except Exception as exc:  # noqa: BLE001 - KilledWorker, a lost connection: one failure per file
                    batch = [on_broken(item, f"the Dask task failed ({type(exc).__name__}: {exc})")
                             for item in futures[future]]
                yield from batch
        except BaseException:
            self.client.cancel(list(futures))
            raise


def check_picklable(work: Any, what: str) -> None:
    """Fail once, clearly, before any work, when ``work`` cannot travel to worker processes."""
    try:
        ForkingPickler.dumps(work)
    except Exception as exc:  # noqa: BLE001 - pickle raises several types
        raise InputError(
            f"The {what} cannot be sent to worker processes ({type(exc).__name__}: {exc}); run with --jobs 1 "
            "(jobs=1) or make it picklable."
        ) from None


@contextlib.contextmanager
def open_executor(work: Any, *, jobs: int, cluster: Any = None, n_tasks: int,
                  connect_timeout: float = 30.0) -> Iterator[Executor]:
    """The executor for ``jobs`` local workers (1 = this process) or ``cluster`` (a Dask address or Client).

    Call :func:`check_picklable` on ``work`` first when ``jobs > 1``: it is what the pool sends each worker."""
    if cluster is not None:
        with _dask_client(cluster, connect_timeout) as client:
            yield DaskExecutor(work, client)
        return
    if jobs <= 1 or n_tasks <= 1:
        yield InProcess(work)
        return
    executor = LocalPool(work, min(jobs, n_tasks))
    try:
        yield executor
    except BaseException:
        executor.pool.shutdown(wait=False, cancel_futures=True)
        raise
    executor.pool.shutdown(wait=True)


@contextlib.contextmanager
def _dask_client(cluster: Any, connect_timeout: float) -> Iterator[Any]:
    try:
        from distributed import Client  # the optional `cluster` extra
    except ImportError:
        raise BackendUnavailableError(
            "--cluster needs Dask distributed; install it with `pip install 'visemes[cluster]'`."
        ) from None
    if isinstance(cluster, Client):
        yield cluster
        return
    try:
        client = Client(cluster, timeout=connect_timeout)
    except (OSError, TimeoutError, ValueError) as exc:
        raise BackendUnavailableError(
            f"Cannot reach the Dask scheduler at {cluster!r} ({exc}); start one with `dask scheduler` and workers "
            "with `dask worker ADDRESS`, then pass its tcp://host:port."
        ) from None
    try:
        yield client
    finally:
        client.close()
