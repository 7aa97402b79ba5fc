"""Jobs, batches and the webhook outbox in one SQLite file (WAL mode: readers never wait for the writer).

Every state change is one short transaction, so several threads (and several API processes on one
machine) can share the file. A job moves ``queued -> running -> succeeded | failed | canceled``:

* a worker *claims* a job with one ``UPDATE ... WHERE state='queued'`` (two workers never get the same
  job) and takes a lease that it renews while the job runs;
* an outcome is recorded only by the run that holds the job (``run_id``) while it is still ``running``,
  in the same transaction as its webhook messages (the outbox pattern: an event is never lost, nor
  sent for an outcome that was not stored);
* a ``running`` job whose lease ran out was left by a dead server: it is queued again, or failed with
  the reason once it has been interrupted ``max_attempts`` times. A finished job is never claimed again.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from visemes.core.errors import BackendUnavailableError

STATES = ("queued", "running", "succeeded", "failed", "canceled")
TERMINAL = ("succeeded", "failed", "canceled")
SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS clients (
    owner TEXT PRIMARY KEY, token_sha256 TEXT NOT NULL, webhook_secret TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS batches (
    id TEXT PRIMARY KEY, owner TEXT NOT NULL, created_at REAL NOT NULL, completed_at REAL,
    webhook_url TEXT, idempotency_key TEXT, request_sha256 TEXT,
    UNIQUE (owner, idempotency_key));
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY, owner TEXT NOT NULL, batch_id TEXT, state TEXT NOT NULL, spec TEXT NOT NULL,
    created_at REAL NOT NULL, started_at REAL, finished_at REAL, lease_until REAL, run_id TEXT,
    attempts INTEGER NOT NULL DEFAULT 0, progress REAL NOT NULL DEFAULT 0, summary TEXT, timings TEXT,
    error_type TEXT, error TEXT, note TEXT, output_dir TEXT, webhook_url TEXT,
    idempotency_key TEXT, request_sha256 TEXT, expired_at REAL,
    UNIQUE (owner, idempotency_key));
CREATE INDEX IF NOT EXISTS jobs_by_state ON jobs (state, created_at);
CREATE INDEX IF NOT EXISTS jobs_by_owner ON jobs (owner, created_at);
CREATE INDEX IF NOT EXISTS jobs_by_batch ON jobs (batch_id);
CREATE TABLE IF NOT EXISTS outbox (
    id TEXT PRIMARY KEY, owner TEXT NOT NULL, event TEXT NOT NULL, url TEXT NOT NULL, payload TEXT NOT NULL,
    job_id TEXT, batch_id TEXT, created_at REAL NOT NULL, next_attempt_at REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0, state TEXT NOT NULL DEFAULT 'pending', lease_until REAL,
    delivered_at REAL, last_error TEXT);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (state, next_attempt_at);
CREATE TABLE IF NOT EXISTS deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT, message_id TEXT NOT NULL, attempt INTEGER NOT NULL, at REAL NOT NULL,
    status INTEGER, error TEXT, seconds REAL);
CREATE INDEX IF NOT EXISTS deliveries_by_message ON deliveries (message_id);
"""


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex}"


@dataclass(frozen=True)
class Job:
    id: str
    owner: str
    batch_id: str | None
    state: str
    spec: dict[str, Any]
    created_at: float
    started_at: float | None
    finished_at: float | None
    attempts: int
    progress: float
    summary: dict[str, Any] | None
    timings: dict[str, Any] | None
    error_type: str | None
    error: str | None
    note: str | None
    output_dir: str | None
    webhook_url: str | None
    run_id: str | None
    request_sha256: str | None
    expired_at: float | None = None   # when retention deleted its files (the record stays)

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> "Job":
        return cls(
            id=row["id"], owner=row["owner"], batch_id=row["batch_id"], state=row["state"], spec=json.loads(row["spec"]),
            created_at=row["created_at"], started_at=row["started_at"], finished_at=row["finished_at"],
            attempts=row["attempts"], progress=row["progress"],
            summary=json.loads(row["summary"]) if row["summary"] else None,
            timings=json.loads(row["timings"]) if row["timings"] else None,
            error_type=row["error_type"], error=row["error"], note=row["note"], output_dir=row["output_dir"],
            webhook_url=row["webhook_url"], run_id=row["run_id"], request_sha256=row["request_sha256"],
            expired_at=row["expired_at"],
        )


@dataclass(frozen=True)
class Batch:
    id: str
    owner: str
    created_at: float
    completed_at: float | None
    webhook_url: str | None
    request_sha256: str | None
    counts: dict[str, int]
    job_ids: tuple[str, ...]
    started_at: float | None = None    # when its first job started


@dataclass(frozen=True)
class Message:
    """One webhook message (an outbox row); retried until delivered or too old."""

    id: str
    owner: str
    event: str
    url: str
    payload: str
    job_id: str | None
    batch_id: str | None
    created_at: float
    next_attempt_at: float
    attempts: int
    state: str
    delivered_at: float | None
    last_error: str | None

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> "Message":
        return cls(**{k: row[k] for k in cls.__dataclass_fields__})


@dataclass(frozen=True)
class NewJob:
    """A validated submission, ready to be stored."""

    id: str
    spec: dict[str, Any]
    webhook_url: str | None = None


class DuplicateRequest(Exception):
    """The Idempotency-Key was used before; ``existing`` is what it created."""

    def __init__(self, existing: Job | Batch):
        self.existing = existing
        super().__init__(existing.id)


class Store:
    """The service's database. One connection per thread (sqlite3 connections are not shared)."""

    def __init__(self, path: str | Path, *, busy_timeout_ms: int = 10_000):
        if sqlite3.sqlite_version_info < (3, 35):  # UPDATE ... RETURNING, the atomic claim
            raise BackendUnavailableError(f"The service needs SQLite 3.35 or newer; this Python has "
                                          f"{sqlite3.sqlite_version}. Use a newer Python build.")
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._busy_ms = int(busy_timeout_ms)
        self._local = threading.local()
        conn = self._conn()
        conn.executescript(_SCHEMA)
        columns = {r["name"] for r in conn.execute("PRAGMA table_info(jobs)")}
        if "expired_at" not in columns:  # a database made before job retention
            with contextlib.suppress(sqlite3.OperationalError):  # another server added it meanwhile
                conn.execute("ALTER TABLE jobs ADD COLUMN expired_at REAL")
        conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))

    # --- connections and transactions --------------------------------------------------------------

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=self._busy_ms / 1000, isolation_level=None)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable at each checkpoint, no torn pages
            conn.execute(f"PRAGMA busy_timeout={self._busy_ms}")
            conn.execute("PRAGMA foreign_keys=ON")
            self._local.conn = conn
        return conn

    @contextlib.contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """A write transaction; BEGIN IMMEDIATE takes the write lock up front (no upgrade deadlocks)."""
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def journal_mode(self) -> str:
        return self._conn().execute("PRAGMA journal_mode").fetchone()[0]

    # --- clients -----------------------------------------------------------------------------------

    def sync_client(self, owner: str, token_sha256: str, webhook_secret: str | None, make_secret: Any) -> str:
        """Record a client; keep its webhook secret across restarts (or set the operator's). Returns it."""
        with self._tx() as db:
            row = db.execute("SELECT webhook_secret FROM clients WHERE owner=?", (owner,)).fetchone()
            secret = webhook_secret or (row["webhook_secret"] if row else make_secret())
            db.execute("INSERT INTO clients (owner, token_sha256, webhook_secret) VALUES (?, ?, ?) "
                       "ON CONFLICT (owner) DO UPDATE SET token_sha256=excluded.token_sha256, "
                       "webhook_secret=excluded.webhook_secret", (owner, token_sha256, secret))
        return secret

    def webhook_secret(self, owner: str) -> str | None:
        row = self._conn().execute("SELECT webhook_secret FROM clients WHERE owner=?", (owner,)).fetchone()
        return row["webhook_secret"] if row else None

    # --- submitting --------------------------------------------------------------------------------

    def add_job(self, owner: str, job: NewJob, *, idempotency_key: str | None = None,
                request_sha256: str | None = None) -> Job:
        """Store a queued job. Raises :class:`DuplicateRequest` if ``idempotency_key`` was used before."""
        now = time.time()
        try:
            with self._tx() as db:
                self._insert_job(db, owner, job, None, now, idempotency_key, request_sha256)
        except sqlite3.IntegrityError:
            existing = self._job_by_key(owner, idempotency_key)
            if existing is None:
                raise
            raise DuplicateRequest(existing) from None
        return self.get_job(owner, job.id)

    def add_batch(self, owner: str, batch_id: str, jobs: Sequence[NewJob], *, webhook_url: str | None = None,
                  idempotency_key: str | None = None, request_sha256: str | None = None) -> Batch:
        now = time.time()
        try:
            with self._tx() as db:
                db.execute("INSERT INTO batches (id, owner, created_at, webhook_url, idempotency_key, request_sha256) "
                           "VALUES (?, ?, ?, ?, ?, ?)", (batch_id, owner, now, webhook_url, idempotency_key, request_sha256))
                for job in jobs:
                    self._insert_job(db, owner, job, batch_id, now, None, None)
        except sqlite3.IntegrityError:
            row = self._conn().execute("SELECT id FROM batches WHERE owner=? AND idempotency_key=?",
                                       (owner, idempotency_key)).fetchone()
            if idempotency_key is None or row is None:
                raise
            raise DuplicateRequest(self.get_batch(owner, row["id"])) from None
        return self.get_batch(owner, batch_id)

    @staticmethod
    def _insert_job(db: sqlite3.Connection, owner: str, job: NewJob, batch_id: str | None, now: float,
                    key: str | None, digest: str | None) -> None:
        db.execute("INSERT INTO jobs (id, owner, batch_id, state, spec, created_at, webhook_url, idempotency_key, "
                   "request_sha256) VALUES (?, ?, ?, 'queued', ?, ?, ?, ?, ?)",
                   (job.id, owner, batch_id, json.dumps(job.spec), now, job.webhook_url, key, digest))

    def _job_by_key(self, owner: str, key: str | None) -> Job | None:
        if key is None:
            return None
        row = self._conn().execute("SELECT * FROM jobs WHERE owner=? AND idempotency_key=?", (owner, key)).fetchone()
        return Job.from_row(row) if row else None

    # --- reading -----------------------------------------------------------------------------------

    def get_job(self, owner: str | None, job_id: str) -> Job | None:
        """The job, if it exists and belongs to ``owner`` (None: any owner, for the worker)."""
        if owner is None:
            row = self._conn().execute("SELECT * FROM jobs WHERE id=?", (job_id,)).fetchone()
        else:
            row = self._conn().execute("SELECT * FROM jobs WHERE id=? AND owner=?", (job_id, owner)).fetchone()
        return Job.from_row(row) if row else None

    def list_jobs(self, owner: str, *, state: str | None = None, offset: int = 0, limit: int = 20) -> tuple[list[Job], int]:
        where, args = "owner=?", [owner]
        if state is not None:
            where += " AND state=?"
            args.append(state)
        conn = self._conn()
        total = conn.execute(f"SELECT COUNT(*) FROM jobs WHERE {where}", args).fetchone()[0]
        rows = conn.execute(f"SELECT * FROM jobs WHERE {where} ORDER BY created_at DESC, rowid DESC LIMIT ? OFFSET ?",
                            [*args, limit, offset]).fetchall()
        return [Job.from_row(r) for r in rows], total

    def get_batch(self, owner: str | None, batch_id: str) -> Batch | None:
        conn = self._conn()
        if owner is None:
            row = conn.execute("SELECT * FROM batches WHERE id=?", (batch_id,)).fetchone()
        else:
            row = conn.execute("SELECT * FROM batches WHERE id=? AND owner=?", (batch_id, owner)).fetchone()
        if row is None:
            return None
        jobs = conn.execute("SELECT id, state, started_at FROM jobs WHERE batch_id=? ORDER BY rowid",
                            (batch_id,)).fetchall()
        counts = {s: 0 for s in STATES}
        for j in jobs:
            counts[j["state"]] += 1
        starts = [j["started_at"] for j in jobs if j["started_at"] is not None]
        return Batch(row["id"], row["owner"], row["created_at"], row["completed_at"], row["webhook_url"],
                     row["request_sha256"], counts, tuple(j["id"] for j in jobs), min(starts) if starts else None)

    def count_by_state(self) -> dict[str, int]:
        rows = self._conn().execute("SELECT state, COUNT(*) AS n FROM jobs GROUP BY state").fetchall()
        return {s: 0 for s in STATES} | {r["state"]: r["n"] for r in rows}

    # --- running -----------------------------------------------------------------------------------

    def claim(self, lease_seconds: float) -> Job | None:
        """Take the oldest queued job (atomically: one statement) and give it a fresh run id and lease."""
        now = time.time()
        run_id = uuid.uuid4().hex
        row = self._conn().execute(
            "UPDATE jobs SET state='running', run_id=?, started_at=?, lease_until=?, attempts=attempts+1, progress=0.1 "
            "WHERE id=(SELECT id FROM jobs WHERE state='queued' ORDER BY created_at, rowid LIMIT 1) AND state='queued' "
            "RETURNING *", (run_id, now, now + lease_seconds)).fetchone()
        return Job.from_row(row) if row else None

    def claim_group(self, lease_seconds: float, key: Callable[[dict[str, Any]], str | None]) -> list[Job]:
        """Take the oldest queued job and, when it is in a batch and ``key(spec)`` is not None, every other
        queued job of that batch with the same key (in batch order): a group the corpus runner runs
        together. Each job gets its own run id and lease; [] when nothing is queued."""
        first = self.claim(lease_seconds)
        if first is None:
            return []
        group_key = key(first.spec)
        if first.batch_id is None or group_key is None:
            return [first]
        group = [first]
        with self._tx() as db:
            rows = db.execute("SELECT id, spec FROM jobs WHERE batch_id=? AND state='queued' ORDER BY rowid",
                              (first.batch_id,)).fetchall()
            now = time.time()
            for row in rows:
                if key(json.loads(row["spec"])) != group_key:
                    continue
                got = db.execute("UPDATE jobs SET state='running', run_id=?, started_at=?, lease_until=?, "
                                 "attempts=attempts+1, progress=0.1 WHERE id=? AND state='queued' RETURNING *",
                                 (uuid.uuid4().hex, now, now + lease_seconds, row["id"])).fetchone()
                if got is not None:
                    group.append(Job.from_row(got))
        return group

    def renew(self, run_ids: Sequence[str], lease_seconds: float) -> None:
        if not run_ids:
            return
        marks = ",".join("?" * len(run_ids))
        with self._tx() as db:
            db.execute(f"UPDATE jobs SET lease_until=? WHERE state='running' AND run_id IN ({marks})",
                       (time.time() + lease_seconds, *run_ids))

    def finish(self, job: Job, state: str, *, summary: dict | None = None, timings: dict | None = None,
               error_type: str | None = None, error: str | None = None, output_dir: str | None = None,
               events: Sequence[tuple[str, str, str]] = ()) -> bool:
        """Record the outcome of ``job``'s run (``job.run_id``); False if that run no longer holds the job
        (it was canceled, or its lease ran out and another run took it). ``events``: webhook messages
        ``(event, url, payload)`` for this outcome, stored in the same transaction."""
        assert state in ("succeeded", "failed")
        now = time.time()
        with self._tx() as db:
            cur = db.execute(
                "UPDATE jobs SET state=?, finished_at=?, progress=1.0, lease_until=NULL, summary=?, timings=?, "
                "error_type=?, error=?, output_dir=? WHERE id=? AND run_id=? AND state='running'",
                (state, now, json.dumps(summary) if summary is not None else None,
                 json.dumps(timings) if timings is not None else None, error_type, error, output_dir, job.id, job.run_id))
            if cur.rowcount != 1:
                return False
            for event, url, payload in events:
                self._enqueue(db, job.owner, event, url, payload, job.id, job.batch_id, now)
        return True

    def cancel(self, owner: str, job_id: str) -> Job | None:
        """Cancel a queued or running job (a running one's result is discarded when it comes back)."""
        now = time.time()
        with self._tx() as db:
            db.execute("UPDATE jobs SET state='canceled', finished_at=?, lease_until=NULL "
                       "WHERE id=? AND owner=? AND state IN ('queued', 'running')", (now, job_id, owner))
        return self.get_job(owner, job_id)

    def requeue(self, run_ids: Sequence[str], note: str) -> int:
        """Put jobs this server was running back in the queue (a clean shutdown)."""
        if not run_ids:
            return 0
        marks = ",".join("?" * len(run_ids))
        with self._tx() as db:
            cur = db.execute(f"UPDATE jobs SET state='queued', run_id=NULL, lease_until=NULL, progress=0, note=? "
                             f"WHERE state='running' AND run_id IN ({marks})", (note, *run_ids))
        return cur.rowcount

    def expired(self) -> list[Job]:
        """Running jobs whose lease ran out: their server (or worker process) died."""
        rows = self._conn().execute("SELECT * FROM jobs WHERE state='running' AND lease_until < ?",
                                    (time.time(),)).fetchall()
        return [Job.from_row(r) for r in rows]

    def recover(self, job: Job, note: str) -> bool:
        """Queue ``job`` (an expired run) again; False if something else changed it meanwhile."""
        with self._tx() as db:
            cur = db.execute("UPDATE jobs SET state='queued', run_id=NULL, lease_until=NULL, progress=0, note=? "
                             "WHERE id=? AND run_id=? AND state='running' AND lease_until < ?",
                             (note, job.id, job.run_id, time.time()))
        return cur.rowcount == 1

    def finished_before(self, before: float, limit: int = 100) -> list[Job]:
        """Finished jobs (any owner) that finished before ``before`` and whose files are still kept."""
        rows = self._conn().execute(
            "SELECT * FROM jobs WHERE state IN ('succeeded', 'failed', 'canceled') AND expired_at IS NULL "
            "AND finished_at < ? ORDER BY finished_at LIMIT ?", (before, limit)).fetchall()
        return [Job.from_row(r) for r in rows]

    def mark_expired(self, job_id: str, at: float) -> bool:
        with self._tx() as db:
            cur = db.execute("UPDATE jobs SET expired_at=? WHERE id=? AND expired_at IS NULL AND state IN "
                             "('succeeded', 'failed', 'canceled')", (at, job_id))
        return cur.rowcount == 1

    def complete_batch(self, batch_id: str, event_payload: Any = None) -> Batch | None:
        """Mark the batch completed if every job of it is finished and it was not marked before; then
        return it, and (same transaction) queue ``batch.completed`` to its webhook URL with the body
        ``event_payload(batch)``, so the event is sent exactly when the batch is marked."""
        now = time.time()
        with self._tx() as db:
            left = db.execute("SELECT COUNT(*) FROM jobs WHERE batch_id=? AND state IN ('queued', 'running')",
                              (batch_id,)).fetchone()[0]
            if left:
                return None
            cur = db.execute("UPDATE batches SET completed_at=? WHERE id=? AND completed_at IS NULL", (now, batch_id))
            if cur.rowcount != 1:
                return None
            batch = self.get_batch(None, batch_id)  # same connection: sees this transaction's writes
            if batch is not None and batch.webhook_url and event_payload is not None:
                self._enqueue(db, batch.owner, "batch.completed", batch.webhook_url, event_payload(batch), None,
                              batch.id, now)
        return batch

    # --- the outbox --------------------------------------------------------------------------------

    @staticmethod
    def _enqueue(db: sqlite3.Connection, owner: str, event: str, url: str, payload: str, job_id: str | None,
                 batch_id: str | None, now: float) -> str:
        msg_id = new_id("msg")
        db.execute("INSERT INTO outbox (id, owner, event, url, payload, job_id, batch_id, created_at, next_attempt_at) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", (msg_id, owner, event, url, payload, job_id, batch_id, now, now))
        return msg_id

    def enqueue(self, owner: str, event: str, url: str, payload: str, *, job_id: str | None = None,
                batch_id: str | None = None) -> str:
        with self._tx() as db:
            return self._enqueue(db, owner, event, url, payload, job_id, batch_id, time.time())

    def due_messages(self, limit: int, lease_seconds: float) -> list[Message]:
        """Take up to ``limit`` messages due for an attempt (leased, so two dispatchers never send one
        attempt twice at the same moment)."""
        now = time.time()
        rows = self._conn().execute(
            "UPDATE outbox SET lease_until=? WHERE id IN (SELECT id FROM outbox WHERE state='pending' AND "
            "next_attempt_at<=? AND (lease_until IS NULL OR lease_until<?) ORDER BY next_attempt_at LIMIT ?) "
            "RETURNING *", (now + lease_seconds, now, now, limit)).fetchall()
        return [Message.from_row(r) for r in rows]

    def record_attempt(self, msg: Message, *, status: int | None, error: str | None, seconds: float,
                       delivered: bool, next_attempt_at: float | None) -> None:
        """One delivery attempt; ``next_attempt_at`` None with ``delivered`` False: give up (failed)."""
        now = time.time()
        attempt = msg.attempts + 1
        state = "delivered" if delivered else ("pending" if next_attempt_at is not None else "failed")
        with self._tx() as db:
            db.execute("INSERT INTO deliveries (message_id, attempt, at, status, error, seconds) VALUES (?, ?, ?, ?, ?, ?)",
                       (msg.id, attempt, now, status, error, seconds))
            db.execute("UPDATE outbox SET attempts=?, state=?, lease_until=NULL, next_attempt_at=?, delivered_at=?, "
                       "last_error=? WHERE id=?",
                       (attempt, state, next_attempt_at if next_attempt_at is not None else msg.next_attempt_at,
                        now if delivered else None, error, msg.id))

    def messages_for(self, owner: str, *, job_id: str | None = None, batch_id: str | None = None) -> list[dict[str, Any]]:
        conn = self._conn()
        if job_id is not None:
            rows = conn.execute("SELECT * FROM outbox WHERE owner=? AND job_id=? ORDER BY created_at", (owner, job_id))
        else:
            rows = conn.execute("SELECT * FROM outbox WHERE owner=? AND batch_id=? AND job_id IS NULL ORDER BY created_at",
                                (owner, batch_id))
        out = []
        for row in rows.fetchall():
            attempts = conn.execute("SELECT attempt, at, status, error, seconds FROM deliveries WHERE message_id=? "
                                    "ORDER BY attempt", (row["id"],)).fetchall()
            out.append({"message": Message.from_row(row), "attempts": [dict(a) for a in attempts]})
        return out
