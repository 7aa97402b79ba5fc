"""Webhooks after the Standard Webhooks convention: signed, retried, recorded.

Each message carries ``webhook-id`` (the same on every retry, so a receiver can drop duplicates),
``webhook-timestamp`` (Unix seconds of this attempt) and ``webhook-signature``
(``v1,<base64 HMAC-SHA256 of "id.timestamp.body">`` with the owner's ``whsec_`` secret, made by the
``standardwebhooks`` package). The body is ``{"type": EVENT, "timestamp": ISO-8601, "data": {...}}``.

Delivery is at-least-once from the outbox table: a 2xx answer delivers; anything else (or no answer) is
retried after ``retry_base * 2**(attempt-1)`` seconds (capped), until ``max_age`` after the event, then
the message is marked failed. Every attempt is a row in ``deliveries``, shown by the API.

The URL policy: only URLs under a prefix the operator allows, only http(s), and only to public
addresses (every address the host resolves to, checked again right before each attempt); loopback
only when the operator allows it (tests, a receiver on the same host). Redirects are not followed.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import secrets
import socket
import threading
import time
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

import httpx
from standardwebhooks.webhooks import Webhook

from visemes.core.errors import InputError
from visemes.service.config import WebhookSettings
from visemes.service.store import Message, Store

EVENTS = ("job.succeeded", "job.failed", "batch.completed")
USER_AGENT = "visemes-webhooks/1"


def make_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode("ascii")


def payload(event: str, data: dict[str, Any]) -> str:
    assert event in EVENTS
    body = {"type": event, "timestamp": datetime.now(timezone.utc).isoformat(timespec="seconds"), "data": data}
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


def signed_headers(secret: str, msg_id: str, body: str, when: datetime | None = None) -> dict[str, str]:
    when = when or datetime.now(timezone.utc)
    signature = Webhook(secret).sign(msg_id, when, body)
    return {"webhook-id": msg_id, "webhook-timestamp": str(int(when.timestamp())), "webhook-signature": signature,
            "content-type": "application/json", "user-agent": USER_AGENT}


class WebhookRefused(InputError):
    """A webhook URL the operator does not allow."""


class UrlPolicy:
    def __init__(self, settings: WebhookSettings):
        self.settings = settings

    def check(self, url: str, *, resolve: bool = True) -> str:
        """``url`` if webhooks may go there; raises :class:`WebhookRefused` saying why not."""
        s = self.settings
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            raise WebhookRefused(f"webhook_url {url!r} is not a valid URL.") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise WebhookRefused(f"webhook_url must be an http(s) URL with a host, got {url!r}.")
        if parts.username or parts.password:
            raise WebhookRefused("webhook_url must not carry a user name or password.")
        if not s.allow:
            raise WebhookRefused("This server sends no webhooks: its operator allows no webhook URL "
                                 "(visemes serve --webhook-allow PREFIX). Poll GET /v1/jobs/{id} instead.")
        if not any(url.startswith(prefix) for prefix in s.allow):
            raise WebhookRefused(f"webhook_url {url!r} is not under a prefix the operator allows: {', '.join(s.allow)}.")
        if resolve:
            host = parts.hostname
            try:
                infos = socket.getaddrinfo(host, port or (443 if parts.scheme == "https" else 80),
                                           type=socket.SOCK_STREAM)
            except OSError as exc:
                raise WebhookRefused(f"webhook_url host {host!r} does not resolve ({exc}).") from None
            for info in infos:
                address = ipaddress.ip_address(info[4][0].split("%")[0])
                if address.is_loopback:
                    if not s.allow_loopback:
                        raise WebhookRefused(f"webhook_url host {host!r} is a loopback address; the operator "
                                             "does not allow those (--webhook-allow-loopback).")
                elif not address.is_global:
                    raise WebhookRefused(f"webhook_url host {host!r} resolves to {address}, an internal address; "
                                         "webhooks go to public addresses only.")
        return url


def next_attempt(msg: Message, settings: WebhookSettings, now: float) -> float | None:
    """When to try ``msg`` again after its attempt number ``msg.attempts + 1`` failed; None: give up."""
    delay = min(settings.retry_max_delay, settings.retry_base_seconds * 2 ** msg.attempts)
    at = now + delay
    return at if at <= msg.created_at + settings.max_age_seconds else None


class Dispatcher:
    """Sends due outbox messages; one thread, bounded work per round, stops on :meth:`stop`."""

    def __init__(self, store: Store, settings: WebhookSettings, *, poll_seconds: float = 0.2, batch: int = 20):
        self.store = store
        self.settings = settings
        self.policy = UrlPolicy(settings)
        self.poll = poll_seconds
        self.batch = batch
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._client = httpx.Client(timeout=settings.timeout_seconds, follow_redirects=False,
                                    headers={"user-agent": USER_AGENT}, trust_env=False)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="visemes-webhooks", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self._client.close()

    def _loop(self) -> None:
        while not self._stop.wait(self.poll):
            try:
                self.run_once()
            except Exception as exc:  # the loop must outlive a bad round (a locked database, say)
                print(f"visemes serve: webhook round failed: {type(exc).__name__}: {exc}", flush=True)

    def run_once(self) -> int:
        """Attempt every due message once; returns how many were attempted."""
        lease = self.settings.timeout_seconds * 2 + 5
        messages = self.store.due_messages(self.batch, lease)
        for msg in messages:
            if self._stop.is_set():
                break
            self._attempt(msg)
        return len(messages)

    def _attempt(self, msg: Message) -> None:
        t0 = time.perf_counter()
        status: int | None = None
        try:
            self.policy.check(msg.url)
        except WebhookRefused as exc:  # the operator's rules changed, or DNS now points inside: never retried
            self.store.record_attempt(msg, status=None, error=f"refused: {exc}", seconds=0.0, delivered=False,
                                      next_attempt_at=None)
            return
        secret = self.store.webhook_secret(msg.owner)
        try:
            if secret is None:
                raise RuntimeError(f"owner {msg.owner!r} has no webhook secret")
            response = self._client.post(msg.url, content=msg.payload.encode("utf-8"),
                                         headers=signed_headers(secret, msg.id, msg.payload))
            status = response.status_code
            error = None if 200 <= status < 300 else f"HTTP {status}"
        except (httpx.HTTPError, RuntimeError) as exc:
            error = f"{type(exc).__name__}: {exc}"
        seconds = round(time.perf_counter() - t0, 4)
        delivered = error is None
        self.store.record_attempt(msg, status=status, error=error, seconds=seconds, delivered=delivered,
                                  next_attempt_at=None if delivered else next_attempt(msg, self.settings, time.time()))
