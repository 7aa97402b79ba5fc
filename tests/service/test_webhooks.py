"""Webhooks: a receiver on 127.0.0.1 checks every signature (with the standardwebhooks package and with a
plain HMAC written here) and fails the first attempts, so retries, back-off and the attempt log are seen."""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.server
import json
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("starlette", reason="the service tests need the [service] extra: pip install '.[service]'")
pytest.importorskip("standardwebhooks", reason="the service tests need the [service] extra: pip install '.[service]'")

from service_helpers import TOKENS, auth, wait_done  # noqa: E402
from standardwebhooks.webhooks import Webhook, WebhookVerificationError  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402

from visemes.service.app import create_app  # noqa: E402
from visemes.service.config import ServiceConfig, WebhookSettings, parse_clients  # noqa: E402
from visemes.service.store import Message  # noqa: E402
from visemes.service.webhooks import UrlPolicy, WebhookRefused, next_attempt  # noqa: E402

TEXT_JOB = {"text": "hello world", "lang": "en-US", "use_model": False}


class Receiver:
    """An HTTP server on a free loopback port recording each request; answers 500 to the first
    ``fail_first`` requests of each webhook-id, then 204."""

    def __init__(self, fail_first: int = 0):
        self.fail_first = fail_first
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                with receiver.lock:
                    headers = {k.lower(): v for k, v in self.headers.items()}
                    seen = sum(1 for r in receiver.requests if r["headers"].get("webhook-id") == headers.get("webhook-id"))
                    receiver.requests.append({"path": self.path, "headers": headers, "body": body, "at": time.time()})
                status = 500 if seen < receiver.fail_first else 204
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self) -> "Receiver":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def settings(receiver: Receiver, **kw) -> WebhookSettings:
    return WebhookSettings(allow=(receiver.url,), allow_loopback=True, retry_base_seconds=0.1, timeout_seconds=5, **kw)


def config(tmp_path: Path, hooks: WebhookSettings) -> ServiceConfig:
    return ServiceConfig(data_dir=tmp_path / "data", clients=parse_clients(TOKENS, "test"), webhooks=hooks,
                         poll_seconds=0.05)


def plain_signature(secret: str, msg_id: str, timestamp: str, body: bytes) -> str:
    """Standard Webhooks v1 signature computed independently of the package."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    mac = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def wait_for(predicate, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def test_signed_webhook_is_retried_until_delivered(tmp_path):
    with Receiver(fail_first=2) as rx, TestClient(create_app(config(tmp_path, settings(rx)))) as c:
        secret = c.get("/v1/me", headers=auth()).json()["webhook_secret"]
        job_id = c.post("/v1/jobs", json={**TEXT_JOB, "webhook_url": rx.url + "job"}, headers=auth()).json()["id"]
        assert wait_done(c, job_id)["state"] == "succeeded"
        log = wait_for(lambda: (m := c.get(f"/v1/jobs/{job_id}/webhooks", headers=auth()).json()["messages"])
                       and m[0]["state"] == "delivered" and m)
    assert len(log) == 1
    msg = log[0]
    assert msg["event"] == "job.succeeded" and msg["attempts"] == 3
    assert [d["status"] for d in msg["deliveries"]] == [500, 500, 204]
    assert [d["attempt"] for d in msg["deliveries"]] == [1, 2, 3]
    assert len(rx.requests) == 3
    assert {r["headers"]["webhook-id"] for r in rx.requests} == {msg["id"]}  # one id across retries
    gaps = [b["at"] - a["at"] for a, b in zip(rx.requests, rx.requests[1:])]
    assert gaps[0] >= 0.09 and gaps[1] >= 0.19  # 0.1 s then 0.2 s: exponential back-off
    hook = Webhook(secret)
    for r in rx.requests:
        h = r["headers"]
        assert h["webhook-signature"] == plain_signature(secret, h["webhook-id"], h["webhook-timestamp"], r["body"])
        event = hook.verify(r["body"], h)
        assert event["type"] == "job.succeeded" and event["data"]["id"] == job_id
        assert event["data"]["state"] == "succeeded" and "json" in event["data"]["outputs"]
        with pytest.raises(WebhookVerificationError):
            hook.verify(r["body"] + b" ", h)  # a changed body fails verification
        with pytest.raises(WebhookVerificationError):
            Webhook("whsec_" + base64.b64encode(b"another secret!!").decode()).verify(r["body"], h)


def test_job_failed_and_batch_completed_events(tmp_path):
    with Receiver() as rx, TestClient(create_app(config(tmp_path, settings(rx)))) as c:
        # a transcript espeak cannot speak: the job fails (at run time), and job.failed is sent
        r = c.post("/v1/batches", json={"webhook_url": rx.url + "batch", "defaults": {"lang": "en-US", "use_model": False},
                                        "jobs": [{"text": "hello"}, {"phones": "q̃ʘʘ"}]}, headers=auth())
        assert r.status_code == 201, r.text
        batch_id = r.json()["id"]
        wait_for(lambda: c.get(f"/v1/batches/{batch_id}", headers=auth()).json()["done"])
        events = wait_for(lambda: len(rx.requests) >= 3 and [json.loads(q["body"])["type"] for q in rx.requests])
        # the receiver records a request before it answers: wait for the server to record the delivery too
        batch_log = wait_for(lambda: (m := c.get(f"/v1/batches/{batch_id}/webhooks", headers=auth()).json()["messages"])
                             and m[0]["state"] == "delivered" and m)
    assert sorted(events) == ["batch.completed", "job.failed", "job.succeeded"]
    completed = next(json.loads(q["body"]) for q in rx.requests if json.loads(q["body"])["type"] == "batch.completed")
    assert completed["data"]["id"] == batch_id and completed["data"]["counts"]["succeeded"] == 1
    assert completed["data"]["counts"]["failed"] == 1
    failed = next(json.loads(q["body"]) for q in rx.requests if json.loads(q["body"])["type"] == "job.failed")
    assert failed["data"]["error"]["message"]
    assert [m["event"] for m in batch_log] == ["batch.completed"] and batch_log[0]["state"] == "delivered"


def test_a_receiver_that_never_answers_2xx_is_given_up_after_the_bounded_period(tmp_path):
    hooks_rx = Receiver(fail_first=10**6)
    with hooks_rx as rx, TestClient(create_app(config(tmp_path, settings(rx, max_age_seconds=1.0)))) as c:
        job_id = c.post("/v1/jobs", json={**TEXT_JOB, "webhook_url": rx.url}, headers=auth()).json()["id"]
        wait_done(c, job_id)
        msg = wait_for(lambda: (m := c.get(f"/v1/jobs/{job_id}/webhooks", headers=auth()).json()["messages"])
                       and m[0]["state"] == "failed" and m[0], timeout=30)
    # attempts at ~0, 0.1, 0.3, 0.7 s; the next (1.5 s) would be past the 1 s bound
    assert 2 <= msg["attempts"] <= 5 and all(d["status"] == 500 for d in msg["deliveries"])
    assert len(rx.requests) == msg["attempts"]


def test_url_policy(monkeypatch):
    s = WebhookSettings(allow=("https://hooks.example.com/", "http://127.0.0.1:8080/"))
    policy = UrlPolicy(s)
    with pytest.raises(WebhookRefused, match="loopback"):
        policy.check("http://127.0.0.1:8080/x")
    assert UrlPolicy(WebhookSettings(allow=s.allow, allow_loopback=True)).check("http://127.0.0.1:8080/x")
    with pytest.raises(WebhookRefused, match="not under a prefix"):
        policy.check("https://evil.example.net/")
    with pytest.raises(WebhookRefused, match="no webhook URL"):
        UrlPolicy(WebhookSettings()).check("https://hooks.example.com/")
    with pytest.raises(WebhookRefused, match="http"):
        policy.check("ftp://hooks.example.com/")
    with pytest.raises(WebhookRefused, match="user name"):
        policy.check("https://user:pw@hooks.example.com/")
    # an allowed name that resolves to an internal address is refused (no DNS: resolution is faked here)
    for address in ("10.1.2.3", "192.168.0.7", "169.254.169.254", "::1", "fd00::1"):
        monkeypatch.setattr("socket.getaddrinfo", lambda *a, _ip=address, **k: [(0, 0, 0, "", (_ip, 443))])
        with pytest.raises(WebhookRefused):
            policy.check("https://hooks.example.com/x")
    monkeypatch.setattr("socket.getaddrinfo", lambda *a, **k: [(0, 0, 0, "", ("93.184.215.14", 443))])
    assert policy.check("https://hooks.example.com/x")


def test_back_off_doubles_and_is_bounded():
    s = WebhookSettings(retry_base_seconds=2.0, retry_max_delay=10.0, max_age_seconds=100.0)
    msg = Message("m", "o", "job.succeeded", "u", "{}", None, None, created_at=0.0, next_attempt_at=0.0, attempts=0,
                  state="pending", delivered_at=None, last_error=None)
    delays = [next_attempt(Message(**{**msg.__dict__, "attempts": n}), s, now=50.0) - 50.0 for n in range(5)]
    assert delays == [2.0, 4.0, 8.0, 10.0, 10.0]
    assert next_attempt(msg, s, now=99.0) is None  # past created_at + max_age: give up
