"""Helpers shared by the service tests (tokens, auth headers, bounded polling)."""

from __future__ import annotations

import time

ALICE, BOB = "alice-token-0123456789", "bob-token-0123456789"
TOKENS = f"alice {ALICE}\nbob {BOB}\n"


def auth(token: str = ALICE) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def wait_done(client, job_id: str, token: str = ALICE, timeout: float = 120.0) -> dict:
    """Poll a job until it finishes (bounded in time)."""
    deadline = time.monotonic() + timeout
    job: dict = {}
    while time.monotonic() < deadline:
        job = client.get(f"/v1/jobs/{job_id}", headers=auth(token)).json()
        if job["done"]:
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} not done after {timeout} s: {job}")
