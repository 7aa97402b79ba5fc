"""The Starlette application: the ``/v1`` API, its OpenAPI document and the web page.

Every error is JSON, ``{"error": {"code", "message", "field"?}}``, with a 4xx for anything the client
can fix (a library ``VisemesError`` included); a 500 only for a bug, still as JSON.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from visemes import __version__
from visemes.core.errors import VisemesError
from visemes.formats import FORMATS
from visemes.service.config import ServiceConfig, token_digest
from visemes.service.execution import STEM, JobRunner, LocalRunner
from visemes.service.openapi import openapi_document
from visemes.service.store import STATES, DuplicateRequest, NewJob, Store, new_id
from visemes.service.submit import (FIELDS, ApiError, Validator, build_spec, discard, from_visemes_error,
                                    request_digest, save_timings, save_upload)
from visemes.service.views import EXTRA_OUTPUTS, batch_view, iso, job_view, output_names
from visemes.service.webhooks import Dispatcher, UrlPolicy, make_secret, payload
from visemes.service.worker import Worker

STATIC = Path(__file__).with_name("static")
_MEDIA = {"json": "application/json", "rhubarb-json": "application/json", "csv": "text/csv",
          "livelink": "text/csv", "oculus": "text/csv", "wav": "audio/wav", "rhubarb-xml": "application/xml"}
MAX_KEY_CHARS = 255
FORM_OVERHEAD = 1 << 20  # multipart boundaries and text fields on top of the audio


class BodyTooLarge(Exception):
    pass


class BodyLimit:
    """ASGI middleware: a request body over ``limit`` bytes is refused (413) before or while it is read."""

    def __init__(self, app: ASGIApp, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.limit:
            await _too_large(self.limit)(scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise BodyTooLarge()
            return message

        await self.app(scope, counted, send)


def _too_large(limit: int) -> JSONResponse:
    return JSONResponse(ApiError(413, "upload_too_large", f"The request body is over {limit} bytes, this server's "
                                 "limit; send a shorter file.").body(), status_code=413)


class Service:
    """What the routes share: configuration, the database, the worker and the webhook dispatcher."""

    def __init__(self, config: ServiceConfig, runner: JobRunner | None = None, background: bool = True):
        self.config = config
        config.jobs_dir.mkdir(parents=True, exist_ok=True)
        self.store = Store(config.db_path)
        self.owners = {c.token_sha256: c.owner for c in config.clients}
        for c in config.clients:
            self.store.sync_client(c.owner, c.token_sha256, c.webhook_secret, make_secret)
        self.policy = UrlPolicy(config.webhooks)
        self.validator = Validator(config.limits, config.allowed_root, self.policy)
        self.worker = Worker(self.store, config, runner or LocalRunner(config.workers))
        self.dispatcher = Dispatcher(self.store, config.webhooks, poll_seconds=config.poll_seconds)
        self.background = background
        self.started = time.time()

    def start(self) -> None:
        if self.background:
            self.worker.start()
            self.dispatcher.start()

    def stop(self) -> None:
        if self.background:
            self.worker.stop()
            self.dispatcher.stop()

    def owner(self, request: Request) -> str:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(401, "unauthorized", "Send an API token: 'Authorization: Bearer TOKEN' (the operator "
                           "gives tokens to visemes serve with --tokens or VISEMES_TOKENS).")
        digest = token_digest(token.strip())
        for known, owner in self.owners.items():
            if hmac.compare_digest(known, digest):
                return owner
        raise ApiError(401, "invalid_token", "The API token is not valid on this server.")


def _service(request: Request) -> Service:
    return request.app.state.service


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(data, status_code=status, headers=headers)


async def _json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    try:
        data = json.loads(raw or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, "malformed_json", f"The body is not valid JSON ({exc}).") from None
    if not isinstance(data, dict):
        raise ApiError(400, "malformed_json", "The JSON body must be an object ({...}).")
    return data


def _content_type(request: Request) -> str:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype not in ("multipart/form-data", "application/json"):
        raise ApiError(415, "unsupported_media_type", f"Send multipart/form-data (with an audio file) or "
                       f"application/json, not {ctype or 'no content type'}.")
    return ctype


def _idempotency_key(request: Request) -> str | None:
    key = request.headers.get("idempotency-key")
    if key is not None and not (0 < len(key) <= MAX_KEY_CHARS):
        raise ApiError(400, "invalid_idempotency_key", f"Idempotency-Key must be 1-{MAX_KEY_CHARS} characters.")
    return key


async def _form(request: Request, limit_files: int) -> tuple[dict[str, str], dict[str, UploadFile]]:
    svc = _service(request)
    form = await request.form(max_files=limit_files, max_fields=100 + 20 * limit_files,
                              max_part_size=svc.config.limits.max_text_chars * 4 + 4096)
    fields: dict[str, str] = {}
    files: dict[str, UploadFile] = {}
    for key, value in form.multi_items():
        if key in fields or key in files:
            raise ApiError(422, "duplicate_field", f"Field {key!r} is given twice.", key)
        if isinstance(value, UploadFile):
            files[key] = value
        else:
            fields[key] = value
    return fields, files


# --- routes -----------------------------------------------------------------------------------------


async def index(request: Request) -> Response:
    return FileResponse(STATIC / "index.html", media_type="text/html")


async def static_js(request: Request) -> Response:
    return FileResponse(STATIC / "app.js", media_type="text/javascript")


async def health(request: Request) -> Response:
    svc = _service(request)
    counts = await run_in_threadpool(svc.store.count_by_state)
    return _json({"status": "ok", "version": __version__, "database": "sqlite",
                  "journal_mode": await run_in_threadpool(svc.store.journal_mode),
                  "workers": svc.config.workers, "jobs": counts,
                  "uptime_seconds": round(time.time() - svc.started, 1)})


async def openapi(request: Request) -> Response:
    return _json(openapi_document(__version__))


async def me(request: Request) -> Response:
    svc = _service(request)
    owner = svc.owner(request)
    limits = asdict(svc.config.limits)
    return _json({"owner": owner, "webhook_secret": await run_in_threadpool(svc.store.webhook_secret, owner),
                  "webhooks_allowed": list(svc.config.webhooks.allow), "limits": limits,
                  "formats": list(FORMATS), "server_paths": svc.config.allowed_root is not None})


async def submit_job(request: Request) -> Response:
    svc = _service(request)
    owner = svc.owner(request)
    key = _idempotency_key(request)
    ctype = _content_type(request)
    if ctype == "application/json":
        fields: dict[str, Any] = await _json_body(request)
        files: dict[str, UploadFile] = {}
    else:
        fields, files = await _form(request, 1)
    extra = sorted(set(files) - {"audio", "timings"})
    if extra:
        raise ApiError(422, "unknown_field", f"Upload the audio as the file field 'audio' (and given timings as "
                       f"'timings'), not {extra[0]!r}.", extra[0])
    checked = await run_in_threadpool(lambda: svc.validator.fields(fields, has_timings="timings" in files))
    if "audio" in files and checked.audio_path is not None:
        raise ApiError(422, "invalid_input", "Give an audio upload or an audio_path, not both.", "audio_path")
    job_id = new_id("job")
    job_dir = svc.config.jobs_dir / job_id
    try:
        uploads: list[str] = []
        audio = checked.audio_path
        if "audio" in files:
            audio, digest = await run_in_threadpool(save_upload, files["audio"].file, job_dir, svc.validator)
            uploads.append(digest)
        else:
            job_dir.mkdir(parents=True)
        timings, lang = None, None
        if "timings" in files:
            timings, timings_digest, lang = await run_in_threadpool(
                save_timings, files["timings"].file, job_dir, svc.validator, checked.options["lang"])
            uploads.append(timings_digest)
        spec = build_spec(checked, job_dir, audio, uploaded="audio" in files, timings=timings, lang=lang)
        digest = request_digest({**checked.options, "audio_path": str(checked.audio_path or ""),
                                 "webhook_url": checked.webhook_url, "timings": timings is not None}, uploads)
        job = await run_in_threadpool(lambda: svc.store.add_job(owner, NewJob(job_id, spec, checked.webhook_url),
                                                                idempotency_key=key, request_sha256=digest))
    except DuplicateRequest as dup:
        discard(job_dir)
        if dup.existing.request_sha256 != digest:
            raise ApiError(422, "idempotency_key_reused", "This Idempotency-Key was used for a different request; "
                           "use a new key for a new job.") from None
        return _json(job_view(dup.existing), 200, {"location": f"/v1/jobs/{dup.existing.id}", "idempotent-replayed": "true"})
    except BaseException:
        discard(job_dir)
        raise
    return _json(job_view(job), 201, {"location": f"/v1/jobs/{job.id}"})


async def list_jobs(request: Request) -> Response:
    svc = _service(request)
    owner = svc.owner(request)
    state = request.query_params.get("state") or None
    if state is not None and state not in STATES:
        raise ApiError(422, "invalid_input", f"state must be one of {', '.join(STATES)}, got {state!r}.", "state")
    page = _int_param(request, "page", 1, 1, 10**6)
    per_page = _int_param(request, "per_page", 20, 1, svc.config.limits.max_page_size)
    jobs, total = await run_in_threadpool(lambda: svc.store.list_jobs(owner, state=state, offset=(page - 1) * per_page,
                                                                      limit=per_page))
    return _json({"object": "list", "jobs": [job_view(j) for j in jobs], "page": page, "per_page": per_page,
                  "total": total, "next_page": page + 1 if page * per_page < total else None})


def _int_param(request: Request, name: str, default: int, lo: int, hi: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = lo - 1
    if not lo <= value <= hi:
        raise ApiError(422, "invalid_input", f"{name} must be an integer from {lo} to {hi}, got {raw!r}.", name)
    return value


async def _owned_job(request: Request):
    svc = _service(request)
    owner = svc.owner(request)
    job = await run_in_threadpool(svc.store.get_job, owner, request.path_params["job_id"])
    if job is None:  # another owner's job is "not found" too: ids are not confirmed to strangers
        raise ApiError(404, "not_found", f"No job {request.path_params['job_id']!r} for this token.")
    return svc, owner, job


async def get_job(request: Request) -> Response:
    _, _, job = await _owned_job(request)
    return _json(job_view(job))


async def cancel_job(request: Request) -> Response:
    svc, owner, job = await _owned_job(request)
    if job.state in ("succeeded", "failed", "canceled"):
        raise ApiError(409, "already_finished", f"Job {job.id} has already {job.state}; nothing to cancel.")
    job = await run_in_threadpool(svc.store.cancel, owner, job.id)
    if job.batch_id:
        await run_in_threadpool(svc.store.complete_batch, job.batch_id,
                                lambda batch: payload("batch.completed", batch_view(batch)))
    return _json(job_view(job))


async def job_output(request: Request) -> Response:
    svc, _, job = await _owned_job(request)
    name = request.path_params.get("name", "json")
    if job.state != "succeeded":
        raise ApiError(409, "not_ready", f"Job {job.id} is {job.state}; outputs exist once it has succeeded.")
    if job.expired_at is not None:
        raise ApiError(410, "expired", f"The outputs of job {job.id} were deleted at {iso(job.expired_at)}: this "
                       "server keeps a finished job's files for a limited time. Submit the job again.")
    available = output_names(job)
    if name not in available:
        raise ApiError(404, "no_such_output", f"Job {job.id} has no {name!r} output; it has {', '.join(available)} "
                       "(ask for more with formats=..., plot=true, preview=true).", "name")
    folder = Path(job.spec["job_dir"]) / (job.output_dir or "")
    if name in EXTRA_OUTPUTS:
        suffix, media = EXTRA_OUTPUTS[name]
        if name == "preview" and not (folder / f"{STEM}.mp4").exists():
            suffix, media = ".gif", "image/gif"  # without ffmpeg the preview is a GIF
    else:
        suffix, media = FORMATS[name].suffix, _MEDIA.get(name, "text/plain; charset=utf-8")
    path = folder / f"{STEM}{suffix}"
    if not path.is_file():
        raise ApiError(410, "gone", f"The {name} output of job {job.id} is no longer on the server.")
    filename = f"{job.spec.get('name') or 'visemes'}{suffix}"
    return FileResponse(path, media_type=media, filename=filename)


async def job_webhooks(request: Request) -> Response:
    svc, owner, job = await _owned_job(request)
    messages = await run_in_threadpool(lambda: svc.store.messages_for(owner, job_id=job.id))
    return _json({"object": "list", "messages": [_message_view(m) for m in messages]})


def _message_view(entry: dict[str, Any]) -> dict[str, Any]:
    msg = entry["message"]
    return {"id": msg.id, "event": msg.event, "url": msg.url, "state": msg.state, "attempts": msg.attempts,
            "created_at": iso(msg.created_at), "delivered_at": iso(msg.delivered_at),
            "next_attempt_at": iso(msg.next_attempt_at) if msg.state == "pending" else None,
            "last_error": msg.last_error,
            "deliveries": [{"attempt": a["attempt"], "at": iso(a["at"]), "status": a["status"], "error": a["error"],
                            "seconds": a["seconds"]} for a in entry["attempts"]]}


async def submit_batch(request: Request) -> Response:
    svc = _service(request)
    owner = svc.owner(request)
    key = _idempotency_key(request)
    limits = svc.config.limits
    ctype = _content_type(request)
    if ctype == "application/json":
        manifest = await _json_body(request)
        files: dict[str, UploadFile] = {}
    else:
        fields, files = await _form(request, limits.max_batch_jobs)
        if "manifest" not in fields:
            raise ApiError(422, "missing_field", "A multipart batch needs a 'manifest' field (JSON) beside its files.",
                           "manifest")
        try:
            manifest = json.loads(fields.pop("manifest"))
        except ValueError as exc:
            raise ApiError(400, "malformed_json", f"The manifest is not valid JSON ({exc}).", "manifest") from None
        if fields:
            raise ApiError(422, "unknown_field", f"Unknown field {sorted(fields)[0]!r}; a batch takes 'manifest' and "
                           "files.", sorted(fields)[0])
    if not isinstance(manifest, dict) or not isinstance(manifest.get("jobs"), list) or not manifest["jobs"]:
        raise ApiError(422, "invalid_input", 'A batch is {"jobs": [{...}, ...], "defaults": {...}, "webhook_url": ...}.',
                       "jobs")
    unknown = sorted(set(manifest) - {"jobs", "defaults", "webhook_url"})
    if unknown:
        raise ApiError(422, "unknown_field", f"Unknown batch field {unknown[0]!r}.", unknown[0])
    if len(manifest["jobs"]) > limits.max_batch_jobs:
        raise ApiError(413, "batch_too_large", f"A batch takes at most {limits.max_batch_jobs} jobs, got "
                       f"{len(manifest['jobs'])}.", "jobs")
    defaults = manifest.get("defaults") or {}
    if not isinstance(defaults, dict):
        raise ApiError(422, "invalid_input", "defaults must be an object of job fields.", "defaults")
    batch_url = manifest.get("webhook_url")
    if batch_url:
        try:
            svc.policy.check(str(batch_url))
        except VisemesError as exc:
            raise ApiError(422, "webhook_refused", str(exc), "webhook_url") from None
    checked, upload_names, timing_names = [], [], []
    for i, item in enumerate(manifest["jobs"]):
        if not isinstance(item, dict):
            raise ApiError(422, "invalid_input", "Each job is an object of job fields.", f"jobs[{i}]")
        item = dict(item)
        named: dict[str, str | None] = {}
        for kind in ("upload", "timings_upload"):  # the file fields holding this job's audio and timings
            name = item.pop(kind, None)
            if name is not None and not isinstance(name, str):
                raise ApiError(422, "invalid_input", f"{kind} must be the name of a file field.", f"jobs[{i}].{kind}")
            if name is not None and name not in files:
                raise ApiError(422, "missing_upload", f"jobs[{i}].{kind} names the file field {name!r}, which the "
                               "request does not have.", f"jobs[{i}].{kind}")
            named[kind] = name
        upload, timing = named["upload"], named["timings_upload"]
        fields_i = await run_in_threadpool(lambda: svc.validator.fields({**defaults, **item}, f"jobs[{i}].",
                                                                        has_timings=timing is not None))
        if upload is not None and fields_i.audio_path is not None:
            raise ApiError(422, "invalid_input", "Give upload or audio_path, not both.", f"jobs[{i}].audio_path")
        checked.append(fields_i)
        upload_names.append(upload)
        timing_names.append(timing)
    used = [u for u in [*upload_names, *timing_names] if u]
    if len(used) != len(set(used)):
        dup = next(u for u in used if used.count(u) > 1)
        raise ApiError(422, "duplicate_field", f"File field {dup!r} is named by two jobs; upload it once per job.", dup)
    unused = sorted(set(files) - set(used))
    if unused:
        raise ApiError(422, "unknown_field", f"File field {unused[0]!r} is not used by any job (jobs[i].upload).",
                       unused[0])
    batch_id = new_id("batch")
    new_jobs, dirs, digests = [], [], []
    try:
        for fields_i, upload, timing in zip(checked, upload_names, timing_names):
            job_id = new_id("job")
            job_dir = svc.config.jobs_dir / job_id
            dirs.append(job_dir)
            audio = fields_i.audio_path
            if upload is not None:
                audio, digest = await run_in_threadpool(save_upload, files[upload].file, job_dir, svc.validator, upload)
                digests.append(digest)
            else:
                job_dir.mkdir(parents=True)
            timings, lang = None, None
            if timing is not None:
                timings, digest, lang = await run_in_threadpool(save_timings, files[timing].file, job_dir,
                                                                svc.validator, fields_i.options["lang"], timing)
                digests.append(digest)
            spec = build_spec(fields_i, job_dir, audio, uploaded=upload is not None, timings=timings, lang=lang)
            new_jobs.append(NewJob(job_id, spec, fields_i.webhook_url or batch_url or None))
        digest = request_digest({"jobs": [{**c.options, "audio_path": str(c.audio_path or ""), "timings": t is not None}
                                          for c, t in zip(checked, timing_names)], "webhook_url": batch_url}, digests)
        batch = await run_in_threadpool(lambda: svc.store.add_batch(owner, batch_id, new_jobs, webhook_url=batch_url or None,
                                                                    idempotency_key=key, request_sha256=digest))
    except DuplicateRequest as dup:
        for d in dirs:
            discard(d)
        if dup.existing.request_sha256 != digest:
            raise ApiError(422, "idempotency_key_reused", "This Idempotency-Key was used for a different batch; use "
                           "a new key.") from None
        return _json(batch_view(dup.existing), 200, {"location": f"/v1/batches/{dup.existing.id}",
                                                     "idempotent-replayed": "true"})
    except BaseException:
        for d in dirs:
            discard(d)
        raise
    return _json(batch_view(batch), 201, {"location": f"/v1/batches/{batch.id}"})


async def get_batch(request: Request) -> Response:
    svc = _service(request)
    owner = svc.owner(request)
    batch = await run_in_threadpool(svc.store.get_batch, owner, request.path_params["batch_id"])
    if batch is None:
        raise ApiError(404, "not_found", f"No batch {request.path_params['batch_id']!r} for this token.")
    view = batch_view(batch)
    if request.query_params.get("expand") == "jobs":
        jobs = [await run_in_threadpool(svc.store.get_job, owner, jid) for jid in batch.job_ids]
        view["jobs"] = [job_view(j) for j in jobs if j is not None]
    return _json(view)


async def batch_webhooks(request: Request) -> Response:
    svc = _service(request)
    owner = svc.owner(request)
    batch = await run_in_threadpool(svc.store.get_batch, owner, request.path_params["batch_id"])
    if batch is None:
        raise ApiError(404, "not_found", f"No batch {request.path_params['batch_id']!r} for this token.")
    messages = await run_in_threadpool(lambda: svc.store.messages_for(owner, batch_id=batch.id))
    return _json({"object": "list", "messages": [_message_view(m) for m in messages]})


# --- errors -----------------------------------------------------------------------------------------


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    headers = {"www-authenticate": "Bearer"} if exc.status == 401 else None
    return _json(exc.body(), exc.status, headers)


async def _visemes_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, VisemesError)
    err = from_visemes_error(exc)
    return _json(err.body(), err.status)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = {400: "bad_request", 404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    message = str(exc.detail)
    if exc.status_code == 404:
        message = f"No route {request.url.path}; the API is under /v1 (GET /v1/openapi.json lists it)."
    return _json({"error": {"code": code, "message": message}}, exc.status_code, dict(exc.headers or {}))


async def _body_too_large(request: Request, exc: Exception) -> Response:
    return _too_large(_service(request).config.limits.max_upload_bytes + FORM_OVERHEAD)


async def _internal(request: Request, exc: Exception) -> Response:
    return _json({"error": {"code": "internal", "message": f"Server error ({type(exc).__name__}); the operator's "
                            "log has the details."}}, 500)


def create_app(config: ServiceConfig, *, runner: JobRunner | None = None, background: bool = True) -> Starlette:
    """The application; ``background=False`` starts no worker or dispatcher (tests drive them)."""
    service = Service(config, runner, background)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        service.start()
        try:
            yield
        finally:
            service.stop()

    routes = [
        Route("/", index), Route("/app.js", static_js),
        Route("/v1/health", health), Route("/v1/openapi.json", openapi), Route("/v1/me", me),
        Route("/v1/jobs", submit_job, methods=["POST"]), Route("/v1/jobs", list_jobs, methods=["GET"]),
        Route("/v1/jobs/{job_id}", get_job, methods=["GET"]), Route("/v1/jobs/{job_id}", cancel_job, methods=["DELETE"]),
        Route("/v1/jobs/{job_id}/outputs", job_output), Route("/v1/jobs/{job_id}/outputs/{name}", job_output),
        Route("/v1/jobs/{job_id}/webhooks", job_webhooks),
        Route("/v1/batches", submit_batch, methods=["POST"]), Route("/v1/batches/{batch_id}", get_batch),
        Route("/v1/batches/{batch_id}/webhooks", batch_webhooks),
    ]
    handlers = {ApiError: _api_error, VisemesError: _visemes_error, HTTPException: _http_error,
                BodyTooLarge: _body_too_large, Exception: _internal}
    app = Starlette(routes=routes, exception_handlers=handlers, lifespan=lifespan,
                    middleware=[Middleware(BodyLimit, limit=config.limits.max_upload_bytes + FORM_OVERHEAD)])
    app.state.service = service
    return app


__all__ = ["FIELDS", "create_app"]
