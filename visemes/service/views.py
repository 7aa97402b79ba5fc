"""What clients see of jobs and batches: the one JSON shape, used by the API and in webhook bodies."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from visemes.formats import FORMATS
from visemes.service.store import TERMINAL, Batch, Job

#: Extra outputs besides the export formats: name -> (file suffix, media type).
EXTRA_OUTPUTS = {"summary": (".summary.json", "application/json"), "plot": (".png", "image/png"),
                 "preview": (".mp4", "video/mp4")}


def iso(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, timezone.utc).isoformat(timespec="milliseconds")


def output_names(job: Job) -> list[str]:
    """The outputs a succeeded job has: its formats (``wav`` only with audio), the summary, plot, preview."""
    if job.state != "succeeded" or job.summary is None or job.expired_at is not None:
        return []
    files = set(job.summary.get("outputs", ()))
    names = [f for f in job.spec.get("formats", ()) if f in FORMATS and f"visemes{FORMATS[f].suffix}" in files]
    names.append("summary")
    if job.spec.get("plot"):
        names.append("plot")
    if job.spec.get("preview"):
        names.append("preview")
    return names


def _name(path: Any) -> str | None:
    return Path(path).name if path else None  # a server path is the operator's business, its name the client's


def job_view(job: Job) -> dict[str, Any]:
    spec = job.spec
    summary = job.summary or {}
    # queued/run from the database's timestamps; the rest as the run measured it (see docs/service.md)
    timings: dict[str, Any] = {}
    if job.started_at is not None:
        timings["queued_seconds"] = round(job.started_at - job.created_at, 4)
    if job.finished_at is not None and job.started_at is not None and job.state != "canceled":
        timings["run_seconds"] = round(job.finished_at - job.started_at, 4)
    timings.update(job.timings or {})
    base = f"/v1/jobs/{job.id}"
    return {
        "id": job.id,
        "object": "job",
        "state": job.state,
        "done": job.state in TERMINAL,
        "batch_id": job.batch_id,
        "progress": job.progress,
        "attempts": job.attempts,
        "created_at": iso(job.created_at),
        "started_at": iso(job.started_at),
        "finished_at": iso(job.finished_at),
        "expired_at": iso(job.expired_at),
        "timings": timings,
        "request": {
            "lang": spec.get("lang"), "formats": list(spec.get("formats", ())), "fps": spec.get("fps"),
            "viseme_set": spec.get("viseme_set"), "use_model": spec.get("use_model"), "model": _name(spec.get("model")),
            "adapter": _name(spec.get("adapter")), "plot": spec.get("plot"),
            "preview": spec.get("preview"), "audio": "upload" if spec.get("uploaded") else
            ("server_path" if spec.get("audio") else None),
            "text_chars": len(spec["text"]) if spec.get("text") else None,
            "phones": bool(spec.get("phones")), "timings": bool(spec.get("timings")), "name": spec.get("name"),
            "webhook_url": job.webhook_url,
        },
        "qa_flags": list(summary.get("qa_flags", ())),
        "qa_notes": list(summary.get("qa_notes", ())),
        "result": ({k: summary.get(k) for k in ("duration", "fps", "frames", "timing", "aligner", "curves",
                                                  "viseme_set", "words", "phones", "visemes", "confidence")}
                   if job.state == "succeeded" else None),
        "error": {"type": job.error_type, "message": job.error} if job.state == "failed" else None,
        "note": job.note,
        "outputs": {name: f"{base}/outputs/{name}" for name in output_names(job)},
        "links": {"self": base, "webhooks": f"{base}/webhooks"},
    }


def batch_view(batch: Batch) -> dict[str, Any]:
    total = sum(batch.counts.values())
    finished = sum(batch.counts[s] for s in TERMINAL)
    state = "completed" if batch.completed_at is not None else ("running" if batch.counts["running"] or finished else "queued")
    timings: dict[str, float] = {}
    if batch.started_at is not None:
        timings["queued_seconds"] = round(batch.started_at - batch.created_at, 4)
        if batch.completed_at is not None:
            timings["run_seconds"] = round(batch.completed_at - batch.started_at, 4)
    return {
        "id": batch.id,
        "object": "batch",
        "state": state,
        "done": batch.completed_at is not None,
        "progress": round(finished / total, 4) if total else 1.0,
        "counts": batch.counts,
        "jobs": list(batch.job_ids),
        "created_at": iso(batch.created_at),
        "started_at": iso(batch.started_at),
        "completed_at": iso(batch.completed_at),
        "timings": timings,
        "webhook_url": batch.webhook_url,
        "links": {"self": f"/v1/batches/{batch.id}", "webhooks": f"/v1/batches/{batch.id}/webhooks"},
    }
