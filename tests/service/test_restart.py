"""Durability: start `visemes serve` on a free loopback port, submit jobs, kill -9 the server (by PID)
while a job runs, start it again: every job finishes (or fails with a reason), none is lost or run twice
after it finished, and outputs are whole."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

pytest.importorskip("starlette", reason="the service tests need the [service] extra: pip install '.[service]'")
pytest.importorskip("uvicorn", reason="the service tests need the [service] extra: pip install '.[service]'")

from service_helpers import ALICE, TOKENS  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(port: int, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method,
                                 headers={"authorization": f"Bearer {ALICE}", "content-type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


class Server:
    """`visemes serve` in its own process group (so its worker processes can be ended with it)."""

    def __init__(self, data: Path, port: int, log: Path, allowed_root: Path | None = None):
        env = {**os.environ, "VISEMES_TOKENS": TOKENS, "MPLBACKEND": "Agg", "JAX_PLATFORMS": "cpu",
               "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
        self.port = port
        self.log = open(log, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "visemes.cli.main", "serve", "--port", str(port), "--data", str(data),
             "--lease-seconds", "1.5", "--jobs", "1", *(["--allowed-root", str(allowed_root)] if allowed_root else [])],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)

    def wait_healthy(self, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, "visemes serve exited early; see the log"
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/v1/health", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        raise AssertionError("visemes serve did not answer /v1/health in time")

    def kill9(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)  # the server process itself, by its PID
        self.proc.wait(10)
        self._end_group(signal.SIGKILL)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._end_group(signal.SIGKILL)
        self.log.close()

    def _end_group(self, sig: int) -> None:
        # the worker processes this server started (same process group, started by this test)
        try:
            os.killpg(self.proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass


@pytest.mark.slow
def test_kill_9_mid_job_then_restart_finishes_every_job(tmp_path, speech_wav):
    """A batch of audio jobs (one corpus run, pooled adaptation) is killed mid-run, then text-only jobs
    (run one by one) wait in the queue: after the restart every job finishes, once."""
    data, log, media = tmp_path / "data", tmp_path / "serve.log", speech_wav.parent
    port = free_port()
    server = Server(data, port, log, media)
    try:
        server.wait_healthy()
        status, batch = call(port, "POST", "/v1/batches", {
            "defaults": {"lang": "en-US", "formats": "json,csv"},
            "jobs": [{"audio_path": speech_wav.name, "text": "hello world"},
                     {"audio_path": speech_wav.name, "text": "hello world", "plot": True}]})
        assert status == 201, batch
        ids = list(batch["jobs"])
        for text in ("hello world", "good morning", "thank you very much"):
            status, job = call(port, "POST", "/v1/jobs", {"text": text, "lang": "en-US", "use_model": False,
                                                          "plot": True, "formats": "json,csv"})
            assert status == 201, job
            ids.append(job["id"])
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and call(port, "GET", f"/v1/jobs/{ids[0]}")[1]["state"] != "running":
            time.sleep(0.02)
        before = {i: call(port, "GET", f"/v1/jobs/{i}")[1]["state"] for i in ids}
        server.kill9()
    finally:
        server.stop()
    assert before[ids[0]] == before[ids[1]] == "running", f"the batch was not running when the server was killed: {before}"
    unfinished = [i for i, s in before.items() if s in ("queued", "running")]

    server = Server(data, free_port(), log, media)
    try:
        server.wait_healthy()
        deadline = time.monotonic() + 180
        jobs: dict[str, dict] = {}
        while time.monotonic() < deadline:
            jobs = {i: call(server.port, "GET", f"/v1/jobs/{i}")[1] for i in ids}
            if all(j["done"] for j in jobs.values()):
                break
            time.sleep(0.1)
        assert all(j["done"] for j in jobs.values()), log.read_text(errors="replace")[-3000:]
        for i, job in jobs.items():
            assert job["state"] == "succeeded" or (job["state"] == "failed" and job["error"]["message"]), job
            if before[i] == "running":
                assert job["attempts"] == 2 and "re-queued" in (job["note"] or ""), job
        assert all(jobs[i]["state"] == "succeeded" for i in unfinished), jobs
        assert [jobs[i]["timings"]["group_jobs"] for i in ids[:2]] == [2, 2]  # re-run together, as one corpus
        # outputs are whole: one out-* folder per job (earlier runs' folders removed), no staging left
        for i in ids:
            job_dir = data / "jobs" / i
            outs = sorted(p.name for p in job_dir.glob("out-*"))
            listed = call(server.port, "GET", f"/v1/jobs/{i}/outputs")
            assert listed[0] == 200 and listed[1]["format"], listed
            assert len(outs) == 1 and (job_dir / outs[0] / "visemes.json").is_file(), outs
            assert not list(job_dir.glob(".staging-*")) and not list(job_dir.glob(".corpus-*"))
        attempts = {i: j["attempts"] for i, j in jobs.items()}
    finally:
        server.stop()

    # a third start: finished jobs are not run again
    server = Server(data, free_port(), log)
    try:
        server.wait_healthy()
        time.sleep(1.0)
        again = {i: call(server.port, "GET", f"/v1/jobs/{i}")[1] for i in ids}
        assert {i: j["attempts"] for i, j in again.items()} == attempts
        assert all(j["state"] == jobs[i]["state"] for i, j in again.items())
    finally:
        server.stop()


@pytest.mark.slow
def test_two_servers_share_one_database(tmp_path):
    """Two `visemes serve` processes on one data folder (docs/service.md): jobs submitted to either are
    run once each, by whichever claims them, and both servers show every job."""
    data, log = tmp_path / "data", tmp_path / "serve.log"
    first = Server(data, free_port(), log)
    second = None
    try:
        first.wait_healthy()  # creates the database before the second one starts
        second = Server(data, free_port(), log)
        second.wait_healthy()
        ids = []
        for n in range(6):
            port = (first, second)[n % 2].port
            status, job = call(port, "POST", "/v1/jobs", {"text": f"number {n}", "lang": "en-US", "use_model": False})
            assert status == 201, job
            ids.append(job["id"])
        deadline = time.monotonic() + 180
        jobs: dict[str, dict] = {}
        while time.monotonic() < deadline:
            jobs = {i: call(second.port, "GET", f"/v1/jobs/{i}")[1] for i in ids}
            if all(j["done"] for j in jobs.values()):
                break
            time.sleep(0.2)
        assert all(j["state"] == "succeeded" and j["attempts"] == 1 for j in jobs.values()), jobs
        assert {i: call(first.port, "GET", f"/v1/jobs/{i}")[1]["state"] for i in ids} == {i: "succeeded" for i in ids}
        for i in ids:
            assert len(list((data / "jobs" / i).glob("out-*"))) == 1
    finally:
        if second is not None:
            second.stop()
        first.stop()
