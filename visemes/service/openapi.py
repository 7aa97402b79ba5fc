"""The OpenAPI 3.1 document of the ``/v1`` API (written by hand: the API is small, and the schema is
then exactly what the routes do; tests/service checks every route is in it)."""

from __future__ import annotations

from typing import Any

from visemes.core.vocabulary import VISEME_SETS
from visemes.formats import FORMATS
from visemes.service.store import STATES
from visemes.service.views import EXTRA_OUTPUTS

_ERROR = {"$ref": "#/components/schemas/Error"}


def _resp(description: str, schema: dict[str, Any] | None = None, media: str = "application/json") -> dict[str, Any]:
    out: dict[str, Any] = {"description": description}
    if schema is not None:
        out["content"] = {media: {"schema": schema}}
    return out


def _errors(*codes: int) -> dict[str, Any]:
    text = {400: "Malformed request (JSON, multipart, header)", 401: "Missing or invalid API token",
            403: "Server-side path refused", 404: "No such job/batch for this token", 409: "Wrong state for this",
            410: "Output no longer on the server", 413: "Upload or batch too large",
            415: "Unsupported content type", 422: "Invalid field (the body names it)"}
    return {str(c): _resp(text[c], _ERROR) for c in codes}


def _job_fields() -> dict[str, Any]:
    return {
        "text": {"type": "string", "description": "The words spoken (or give phones)."},
        "phones": {"type": "string", "description": "IPA phones, ' | ' between words (instead of text)."},
        "lang": {"type": "string", "description": "Language code (en-US, cmn, ar, hi, ...; `visemes langs`)."},
        "formats": {"type": "string", "default": "json",
                    "description": f"Comma-separated export formats or 'all': {', '.join(FORMATS)}."},
        "fps": {"type": "number", "default": 30, "minimum": 1, "maximum": 1000},
        "viseme_set": {"type": "string", "enum": list(VISEME_SETS), "default": "oculus"},
        "use_model": {"type": "boolean", "default": False,
                      "description": "Neural model curves (default false: the coarticulation rules, which measure "
                                     "closer to real mouths)."},
        "model": {"type": "string", "description": "Other neural-model weights (.safetensors + .json): a server-side "
                                                   "path inside the allowed root; implies use_model. Checked at submit."},
        "adapter": {"type": "string", "description": "A model adapter (visemes finetune): a server-side path inside "
                                                     "the allowed root; implies use_model. Checked at submit."},
        "plot": {"type": "boolean", "default": False, "description": "Also draw the timeline plot (PNG)."},
        "preview": {"type": "boolean", "default": False, "description": "Also render a mouth preview video."},
        "name": {"type": "string", "description": "File name stem for downloads (letters, digits, ._-)."},
        "webhook_url": {"type": "string", "format": "uri",
                        "description": "Where job.succeeded / job.failed go (must be allowed by the operator)."},
        "audio_path": {"type": "string", "description": "A server-side audio file inside the operator's allowed root."},
    }


def openapi_document(version: str) -> dict[str, Any]:
    fields = _job_fields()
    job_ref = {"$ref": "#/components/schemas/Job"}
    batch_ref = {"$ref": "#/components/schemas/Batch"}
    job_id = {"name": "job_id", "in": "path", "required": True, "schema": {"type": "string"}}
    batch_id = {"name": "batch_id", "in": "path", "required": True, "schema": {"type": "string"}}
    idem = {"name": "Idempotency-Key", "in": "header", "required": False, "schema": {"type": "string", "maxLength": 255},
            "description": "A retried submit with the same key returns the same job (200) instead of a new one."}
    outputs = list(FORMATS) + list(EXTRA_OUTPUTS)
    return {
        "openapi": "3.1.0",
        "info": {"title": "visemes service", "version": version, "license": {"name": "GPL-3.0-or-later"},
                 "description": "Lip-sync jobs: audio + transcript + language -> visemes and mouth curves in every "
                                "export format. Webhooks follow Standard Webhooks (webhook-id, webhook-timestamp, "
                                "webhook-signature: v1,base64(HMAC-SHA256(secret, id.timestamp.body)))."},
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": {
            "/v1/health": {"get": {"summary": "Liveness and queue counts", "security": [],
                                   "responses": {"200": _resp("OK", {"type": "object"})}}},
            "/v1/openapi.json": {"get": {"summary": "This document", "security": [],
                                         "responses": {"200": _resp("OK", {"type": "object"})}}},
            "/v1/me": {"get": {"summary": "The token's owner, webhook secret and the server's limits",
                               "responses": {"200": _resp("OK", {"type": "object"}), **_errors(401)}}},
            "/v1/jobs": {
                "post": {"summary": "Submit a job", "parameters": [idem],
                         "requestBody": {"required": True, "content": {
                             "multipart/form-data": {"schema": {"type": "object", "required": ["lang"], "properties": {
                                 "audio": {"type": "string", "format": "binary", "description": "WAV, FLAC or OGG"},
                                 "timings": {"type": "string", "format": "binary",
                                             "description": "Given timings instead of a transcript: a Praat "
                                                            "TextGrid or a visemes alignment JSON (lang optional)"},
                                 **fields}}},
                             "application/json": {"schema": {"type": "object", "required": ["lang"],
                                                             "properties": fields}}}},
                         "responses": {"201": _resp("Queued", job_ref), "200": _resp("Replayed (Idempotency-Key)", job_ref),
                                       **_errors(400, 401, 403, 413, 415, 422)}},
                "get": {"summary": "List this token's jobs, newest first", "parameters": [
                    {"name": "state", "in": "query", "schema": {"type": "string", "enum": list(STATES)}},
                    {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "default": 1}},
                    {"name": "per_page", "in": "query", "schema": {"type": "integer", "minimum": 1, "default": 20}}],
                    "responses": {"200": _resp("A page", {"type": "object", "properties": {
                        "jobs": {"type": "array", "items": job_ref}, "page": {"type": "integer"},
                        "per_page": {"type": "integer"}, "total": {"type": "integer"},
                        "next_page": {"type": ["integer", "null"]}}}), **_errors(401, 422)}},
            },
            "/v1/jobs/{job_id}": {
                "parameters": [job_id],
                "get": {"summary": "A job's state, progress, QA flags, timings",
                        "responses": {"200": _resp("The job", job_ref), **_errors(401, 404)}},
                "delete": {"summary": "Cancel a queued or running job",
                           "responses": {"200": _resp("Canceled", job_ref), **_errors(401, 404, 409)}},
            },
            "/v1/jobs/{job_id}/outputs": {"parameters": [job_id], "get": {
                "summary": "The JSON document (alignment + curves) of a succeeded job",
                "responses": {"200": _resp("The file", {"type": "object"}), **_errors(401, 404, 409, 410)}}},
            "/v1/jobs/{job_id}/outputs/{name}": {
                "parameters": [job_id, {"name": "name", "in": "path", "required": True,
                                        "schema": {"type": "string", "enum": outputs}}],
                "get": {"summary": "One output file (a format the job asked for, summary, plot, preview)",
                        "responses": {"200": {"description": "The file (media type by format)"},
                                      **_errors(401, 404, 409, 410)}}},
            "/v1/jobs/{job_id}/webhooks": {"parameters": [job_id], "get": {
                "summary": "The job's webhook messages and every delivery attempt",
                "responses": {"200": _resp("Messages", {"type": "object"}), **_errors(401, 404)}}},
            "/v1/batches": {"post": {
                "summary": "Submit many jobs under one id",
                "description": 'JSON {"jobs": [{job fields}], "defaults": {job fields}, "webhook_url": URL}, or '
                               "multipart with that JSON in a 'manifest' field and audio files whose field names "
                               "jobs refer to as \"upload\": NAME (audio) and \"timings_upload\": NAME (given timings).",
                "parameters": [idem],
                "requestBody": {"required": True, "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/BatchRequest"}},
                    "multipart/form-data": {"schema": {"type": "object", "required": ["manifest"], "properties": {
                        "manifest": {"type": "string", "description": "BatchRequest as JSON"}},
                        "additionalProperties": {"type": "string", "format": "binary"}}}}},
                "responses": {"201": _resp("Queued", batch_ref), "200": _resp("Replayed (Idempotency-Key)", batch_ref),
                              **_errors(400, 401, 403, 413, 415, 422)}}},
            "/v1/batches/{batch_id}": {"parameters": [batch_id], "get": {
                "summary": "A batch's state and counts (?expand=jobs: every job)",
                "responses": {"200": _resp("The batch", batch_ref), **_errors(401, 404)}}},
            "/v1/batches/{batch_id}/webhooks": {"parameters": [batch_id], "get": {
                "summary": "The batch.completed message and its delivery attempts",
                "responses": {"200": _resp("Messages", {"type": "object"}), **_errors(401, 404)}}},
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {"type": "object", "required": ["error"], "properties": {"error": {
                    "type": "object", "required": ["code", "message"], "properties": {
                        "code": {"type": "string"}, "message": {"type": "string"}, "field": {"type": "string"}}}}},
                "Job": {"type": "object", "required": ["id", "state"], "properties": {
                    "id": {"type": "string"}, "state": {"type": "string", "enum": list(STATES)},
                    "done": {"type": "boolean"}, "batch_id": {"type": ["string", "null"]},
                    "progress": {"type": "number"}, "attempts": {"type": "integer"},
                    "created_at": {"type": "string"}, "started_at": {"type": ["string", "null"]},
                    "finished_at": {"type": ["string", "null"]}, "timings": {"type": "object"},
                    "expired_at": {"type": ["string", "null"],
                                   "description": "When retention deleted the job's files (the record stays)"},
                    "request": {"type": "object"}, "qa_flags": {"type": "array", "items": {"type": "string"}},
                    "qa_notes": {"type": "array", "items": {"type": "string"}},
                    "result": {"type": ["object", "null"]}, "error": {"type": ["object", "null"]},
                    "note": {"type": ["string", "null"]},
                    "outputs": {"type": "object", "additionalProperties": {"type": "string"}}}},
                "Batch": {"type": "object", "required": ["id", "state"], "properties": {
                    "id": {"type": "string"}, "state": {"type": "string", "enum": ["queued", "running", "completed"]},
                    "done": {"type": "boolean"}, "progress": {"type": "number"},
                    "counts": {"type": "object", "additionalProperties": {"type": "integer"}},
                    "started_at": {"type": ["string", "null"]}, "completed_at": {"type": ["string", "null"]},
                    "timings": {"type": "object"}, "jobs": {"type": "array", "items": {}}}},
                "BatchRequest": {"type": "object", "required": ["jobs"], "properties": {
                    "jobs": {"type": "array", "items": {"type": "object", "properties": {
                        **fields, "upload": {"type": "string", "description": "multipart file field of the audio"},
                        "timings_upload": {"type": "string", "description": "multipart file field of given timings "
                                                                            "(TextGrid or alignment JSON)"}}}},
                    "defaults": {"type": "object", "properties": fields},
                    "webhook_url": {"type": "string", "format": "uri",
                                    "description": "Where batch.completed (and each job's events) go."}}},
            },
        },
    }
