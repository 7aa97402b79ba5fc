"""The worker: claims queued jobs, keeps their leases fresh, stores outcomes, recovers abandoned jobs,
and deletes the files of jobs past their retention period.

One thread per server process. Each round (every ``poll_seconds``, bounded work per round): renew the
leases of the jobs this process runs; queue again (or fail, after ``max_attempts`` interruptions) the
running jobs whose lease ran out, which a killed server left behind; claim queued jobs, a group at a
time (a batch's jobs that the corpus runner aligns together: :func:`~visemes.service.jobspec.pool_key`),
while the runner has room; store the outcome of each finished run. A run whose job was canceled (or
taken over) meanwhile is discarded, and its folder removed. With ``retention_seconds`` set, a job
finished longer ago than that loses its folder (uploads and outputs); its record stays, marked expired.
"""

from __future__ import annotations

import concurrent.futures as cf
import dataclasses
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path

from visemes.service.config import ServiceConfig
from visemes.service.execution import JobRunner, JobSpec, RunOutcome
from visemes.service.jobspec import pool_key
from visemes.service.store import Job, Store
from visemes.service.views import batch_view, job_view
from visemes.service.webhooks import payload


def _pool_key(spec: dict) -> str | None:
    try:
        return pool_key(JobSpec.from_dict(spec))
    except TypeError:  # a spec this version cannot read runs on its own (and fails there, with the reason)
        return None


class Worker:
    """``clock``: the wall clock retention is measured with (tests inject a later one)."""

    def __init__(self, store: Store, config: ServiceConfig, runner: JobRunner, clock: Callable[[], float] = time.time):
        self.store = store
        self.config = config
        self.runner = runner
        self.clock = clock
        self._active: dict[cf.Future, list[Job]] = {}
        self._slots: dict[cf.Future, int] = {}  # worker processes each running group uses
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_renew = 0.0
        self._last_sweep = 0.0

    # --- lifecycle ---------------------------------------------------------------------------------

    def start(self) -> None:
        self.recover()
        self._thread = threading.Thread(target=self._loop, name="visemes-worker", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop claiming; jobs still running go back to the queue for the next start."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        left = [job.run_id for group in self._active.values() for job in group if job.run_id]
        self.store.requeue(left, "re-queued: the server shut down while this job ran")
        self._active.clear()
        self._slots.clear()
        self.runner.shutdown()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once(wait=self.config.poll_seconds)
            except Exception as exc:  # keep serving after a bad round (a locked database, say)
                print(f"visemes serve: worker round failed: {type(exc).__name__}: {exc}", flush=True)
                self._stop.wait(self.config.poll_seconds)

    # --- one round ---------------------------------------------------------------------------------

    def run_once(self, wait: float = 0.0) -> None:
        now = time.time()
        if now - self._last_renew >= self.config.lease_seconds / 3:
            self.store.renew([j.run_id for g in self._active.values() for j in g if j.run_id], self.config.lease_seconds)
            self.recover()
            self._last_renew = now
        if self.config.retention_seconds is not None and now - self._last_sweep >= self.config.sweep_seconds:
            self.sweep()
            self._last_sweep = now
        while (free := self.runner.capacity - sum(self._slots.values())) > 0 and not self._stop.is_set():
            group = self.store.claim_group(self.config.lease_seconds, _pool_key)
            if not group:
                break
            # a batch takes the free slots (up to one per file): its corpus run uses that many processes
            slots = min(len(group), free) if self.runner.splits else 1
            try:
                specs = [JobSpec.from_dict(job.spec) for job in group]
                future = self.runner.submit(specs, [job.run_id for job in group], slots)
                self._active[future], self._slots[future] = group, slots
            except Exception as exc:  # a spec that cannot run, or a runner that cannot start
                for job in group:
                    self._record(job, RunOutcome(False, error_type="InternalError", error=f"cannot start: {exc}"))
        if not self._active:
            self._stop.wait(wait)
            return
        done, _ = cf.wait(list(self._active), timeout=wait, return_when=cf.FIRST_COMPLETED)
        for future in done:
            group = self._active.pop(future)
            self._slots.pop(future, None)
            try:
                outcomes = list(future.result())
                if len(outcomes) != len(group):
                    raise RuntimeError(f"the runner returned {len(outcomes)} outcomes for {len(group)} jobs")
            except Exception as exc:  # the worker process died (killed, out of memory): report, do not retry
                crashed = RunOutcome(False, error_type="WorkerCrashed",
                                     error=f"The worker process running this job died ({type(exc).__name__}: {exc}). "
                                           "Try a shorter file, or ask the operator to look at the server log.")
                outcomes = [crashed] * len(group)
            for job, outcome in zip(group, outcomes):
                self._record(job, outcome)

    def _record(self, job: Job, outcome: RunOutcome) -> None:
        state = "succeeded" if outcome.ok else "failed"
        events = []
        if job.webhook_url:
            # the view of the job as it will be once stored (the webhook body is part of the same transaction)
            finished = dataclasses.replace(job, state=state, finished_at=time.time(), progress=1.0,
                                           summary=outcome.summary, timings=outcome.timings,
                                           error_type=outcome.error_type, error=outcome.error,
                                           output_dir=outcome.output_dir)
            event = "job.succeeded" if outcome.ok else "job.failed"
            events.append((event, job.webhook_url, payload(event, job_view(finished))))
        stored = self.store.finish(job, state, summary=outcome.summary, timings=outcome.timings,
                                   error_type=outcome.error_type, error=outcome.error,
                                   output_dir=outcome.output_dir, events=events)
        job_dir = Path(job.spec["job_dir"])
        if not stored and outcome.output_dir:
            # canceled (or taken over) while it ran: this run's files belong to no job
            shutil.rmtree(job_dir / outcome.output_dir, ignore_errors=True)
        if stored:
            # folders of earlier runs a dead server left behind (the database names the one that counts)
            for stale in [*job_dir.glob("out-*"), *job_dir.glob(".staging-*"), *job_dir.glob(".corpus-*")]:
                if stale.name != outcome.output_dir:
                    shutil.rmtree(stale, ignore_errors=True)
        if job.batch_id:
            self.batch_maybe_completed(job.batch_id)

    def batch_maybe_completed(self, batch_id: str) -> None:
        self.store.complete_batch(batch_id, lambda batch: payload("batch.completed", batch_view(batch)))

    def recover(self) -> int:
        """Queue again (or fail) the running jobs whose lease ran out. Returns how many were handled."""
        handled = 0
        mine = {j.run_id for g in self._active.values() for j in g}
        for job in self.store.expired():
            if job.run_id in mine:
                continue
            if job.attempts >= self.config.max_attempts:
                reason = (f"The server stopped while running this job, {job.attempts} times; it is not tried again "
                          "(a file that crashes the server every time?). Submit it again to retry.")
                failed = dataclasses.replace(job, state="failed", finished_at=time.time(), progress=1.0,
                                             error_type="Interrupted", error=reason)
                events = [("job.failed", job.webhook_url, payload("job.failed", job_view(failed)))] if job.webhook_url else []
                if self.store.finish(job, "failed", error_type="Interrupted", error=reason, events=events):
                    handled += 1
                    if job.batch_id:
                        self.batch_maybe_completed(job.batch_id)
            elif self.store.recover(job, f"re-queued: the server stopped during attempt {job.attempts}"):
                handled += 1
        return handled

    def sweep(self, limit: int = 100) -> int:
        """Delete the folders of jobs finished more than ``retention_seconds`` ago (by ``clock``) and mark
        them expired; returns how many. Bounded per call; the next round takes the rest."""
        if self.config.retention_seconds is None:
            return 0
        now = self.clock()
        expired = 0
        for job in self.store.finished_before(now - self.config.retention_seconds, limit):
            # the job's own folder only (uploads, timings, outputs); server-side audio is never touched
            folder = Path(job.spec["job_dir"])
            if folder.resolve().parent == self.config.jobs_dir.resolve():
                shutil.rmtree(folder, ignore_errors=True)
            expired += self.store.mark_expired(job.id, now)
        return expired
