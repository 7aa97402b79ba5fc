"""What the operator of ``visemes serve`` decides: limits, API tokens, where webhooks may go.

API tokens come from a file or an environment variable, one client per line (``;`` also separates
entries, for the environment)::

    # owner   token (or sha256:<hex of the token>)   [webhook secret, whsec_<base64>]
    alice     s3cret-token-of-alice
    bob       sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08

Only SHA-256 digests of tokens are kept (in memory and in the database); a file may hold the digest
instead of the token so the token itself is nowhere on the server.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from visemes.core.errors import InputError

TOKENS_ENV = "VISEMES_TOKENS"
_OWNER = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
MIN_TOKEN_CHARS = 8


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Client:
    owner: str
    token_sha256: str
    webhook_secret: str | None = None  # None: the server makes one (GET /v1/me shows it to the owner)


@dataclass(frozen=True)
class Limits:
    max_upload_bytes: int = 50 * 1024 * 1024
    max_audio_seconds: float = 600.0
    max_text_chars: int = 20_000
    max_batch_jobs: int = 100
    max_page_size: int = 100


@dataclass(frozen=True)
class WebhookSettings:
    #: URL prefixes webhooks may go to (``https://hooks.example.com/``); empty: no webhooks at all.
    allow: tuple[str, ...] = ()
    #: Loopback targets (127.0.0.0/8, ::1) allowed: for tests and same-host receivers only.
    allow_loopback: bool = False
    retry_base_seconds: float = 5.0     # first retry after this, doubling each time
    retry_max_delay: float = 3600.0     # no wait between two attempts longer than this
    max_age_seconds: float = 24 * 3600.0  # give up on a message this long after it was created
    timeout_seconds: float = 10.0


@dataclass(frozen=True)
class ServiceConfig:
    data_dir: Path
    clients: tuple[Client, ...]
    limits: Limits = field(default_factory=Limits)
    webhooks: WebhookSettings = field(default_factory=WebhookSettings)
    #: Server-side audio paths are accepted only inside this folder (None: refused).
    allowed_root: Path | None = None
    workers: int = 1                 # local worker processes
    lease_seconds: float = 30.0      # a running job whose lease is this old was left by a dead server
    max_attempts: int = 2            # runs of one job interrupted by a dead server before it is failed
    poll_seconds: float = 0.2        # how often the worker and the dispatcher look for work
    #: A finished job's folder (uploads, outputs) is deleted this long after it finished; the job record
    #: stays, marked expired. None: kept until the operator deletes them.
    retention_seconds: float | None = None
    sweep_seconds: float = 60.0      # how often the worker looks for jobs past their retention

    @property
    def db_path(self) -> Path:
        return self.data_dir / "service.sqlite3"

    @property
    def jobs_dir(self) -> Path:
        return self.data_dir / "jobs"


def parse_clients(text: str, source: str) -> tuple[Client, ...]:
    """Clients from the token-file syntax (see the module docstring)."""
    clients: dict[str, Client] = {}
    digests: set[str] = set()
    for n, raw in enumerate(re.split(r"[\n;]", text), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split()
        if len(parts) not in (2, 3):
            raise InputError(f"{source}: entry {n}: expected 'OWNER TOKEN [WEBHOOK_SECRET]', got {len(parts)} fields.")
        owner, token = parts[0], parts[1]
        if not _OWNER.match(owner):
            raise InputError(f"{source}: entry {n}: owner {owner!r} must be 1-64 letters, digits or _.@-")
        if token.startswith("sha256:"):
            digest = token[len("sha256:"):].lower()
            if not _HEX64.match(digest):
                raise InputError(f"{source}: entry {n}: sha256: must be followed by 64 hex digits.")
        elif len(token) < MIN_TOKEN_CHARS:
            raise InputError(f"{source}: entry {n}: the token of {owner!r} is shorter than {MIN_TOKEN_CHARS} "
                             "characters; use a long random token (e.g. `python -c \"import secrets; "
                             "print(secrets.token_urlsafe(32))\"`).")
        else:
            digest = token_digest(token)
        if owner in clients or digest in digests:
            raise InputError(f"{source}: entry {n}: owner {owner!r} or its token is listed twice.")
        secret = parts[2] if len(parts) == 3 else None
        if secret is not None and not secret.startswith("whsec_"):
            raise InputError(f"{source}: entry {n}: a webhook secret starts with whsec_ (Standard Webhooks).")
        clients[owner] = Client(owner, digest, secret)
        digests.add(digest)
    return tuple(clients.values())


def load_clients(tokens_file: str | os.PathLike | None = None, env: dict[str, str] | None = None) -> tuple[Client, ...]:
    """Clients from ``tokens_file`` and/or the ``VISEMES_TOKENS`` environment variable; at least one."""
    env = os.environ if env is None else env
    clients: list[Client] = []
    if tokens_file is not None:
        path = Path(tokens_file)
        if not path.is_file():
            raise InputError(f"Token file {path} does not exist; give a file of 'OWNER TOKEN' lines.")
        clients += parse_clients(path.read_text(encoding="utf-8"), str(path))
    if env.get(TOKENS_ENV):
        clients += parse_clients(env[TOKENS_ENV], TOKENS_ENV)
    if not clients:
        raise InputError(f"No API tokens: give --tokens FILE or set {TOKENS_ENV}='OWNER TOKEN' "
                         "(every request must carry one as 'Authorization: Bearer TOKEN').")
    owners = [c.owner for c in clients]
    if len(set(owners)) != len(owners) or len({c.token_sha256 for c in clients}) != len(clients):
        raise InputError("The same owner or token is given twice (in the token file and the environment).")
    return tuple(clients)
