"""``visemes serve``: the HTTP job service (:mod:`visemes.service`, the optional ``[service]`` extra).

The service sits below the CLI in the layer contract. Its modules import Starlette and uvicorn (the
optional extra), so this command imports them only when it runs: without the extra only this command
fails, with a clear message.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import click

from visemes.core.errors import BackendUnavailableError

SERVICE_MODULES = ("starlette", "uvicorn", "multipart", "standardwebhooks", "httpx")


def _require_extra() -> None:
    missing = [m for m in SERVICE_MODULES if importlib.util.find_spec(m) is None]
    if missing:
        raise BackendUnavailableError(f"`visemes serve` needs the service extra ({', '.join(missing)} missing): "
                                      "pip install 'visemes[service]'.")


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (0.0.0.0: every interface).")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
@click.option("--data", "data_dir", default="visemes-service", show_default=True,
              type=click.Path(file_okay=False, path_type=Path), help="Folder for the database and the job files.")
@click.option("--tokens", "tokens_file", default=None, type=click.Path(dir_okay=False, path_type=Path),
              help="File of 'OWNER TOKEN [WEBHOOK_SECRET]' lines (or set VISEMES_TOKENS).")
@click.option("--jobs", "workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Local worker processes running jobs.")
@click.option("--cluster", default=None, metavar="ADDRESS",
              help="Run jobs on a Dask scheduler (tcp://host:8786; pip install 'visemes[cluster]'); job folders "
                   "must be on a filesystem the workers share.")
@click.option("--allowed-root", default=None, type=click.Path(file_okay=False, exists=True, path_type=Path),
              help="Accept server-side audio paths inside this folder (default: uploads only).")
@click.option("--max-upload-mb", type=click.FloatRange(min=0.001), default=50.0, show_default=True)
@click.option("--max-audio-seconds", type=click.FloatRange(min=0.1), default=600.0, show_default=True)
@click.option("--max-text-chars", type=click.IntRange(min=1), default=20_000, show_default=True)
@click.option("--webhook-allow", multiple=True, metavar="PREFIX",
              help="URL prefix webhooks may go to (repeatable); none: no webhooks.")
@click.option("--webhook-allow-loopback", is_flag=True, help="Allow webhooks to loopback addresses (tests, same host).")
@click.option("--webhook-retry-base", type=click.FloatRange(min=0.01), default=5.0, show_default=True,
              help="Seconds before the first webhook retry (doubling after each failure).")
@click.option("--webhook-max-age", type=click.FloatRange(min=1), default=86400.0, show_default=True,
              help="Give up on a webhook message this many seconds after its event.")
@click.option("--lease-seconds", type=click.FloatRange(min=0.5), default=30.0, show_default=True,
              help="A running job not renewed for this long was left by a dead server and runs again.")
@click.option("--max-attempts", type=click.IntRange(min=1), default=2, show_default=True,
              help="Interrupted runs of one job before it is failed with the reason.")
@click.option("--keep-hours", type=click.FloatRange(min=0, min_open=True), default=None, metavar="HOURS",
              help="Delete a finished job's uploads and outputs this long after it finished; its record stays "
                   "(GET shows expired_at, downloads answer 410). Default: keep them.")
def serve(host: str, port: int, data_dir: Path, tokens_file: Path | None, workers: int, cluster: str | None,
          allowed_root: Path | None,
          max_upload_mb: float, max_audio_seconds: float, max_text_chars: int, webhook_allow: tuple[str, ...],
          webhook_allow_loopback: bool, webhook_retry_base: float, webhook_max_age: float, lease_seconds: float,
          max_attempts: int, keep_hours: float | None) -> None:
    """Serve the HTTP API (/v1, OpenAPI at /v1/openapi.json) and the web page (/) for lip-sync jobs.

    Jobs and webhook messages live in DATA/service.sqlite3; every request needs an API token."""
    _require_extra()
    # heavy, optional: the [service] extra (Starlette, uvicorn), checked above, imported only for this command
    import uvicorn

    from visemes.service import config as conf
    from visemes.service.app import create_app
    from visemes.service.config import Limits, ServiceConfig, WebhookSettings
    from visemes.service.execution import DaskRunner

    config = ServiceConfig(
        data_dir=data_dir.resolve(), clients=conf.load_clients(tokens_file),
        limits=Limits(max_upload_bytes=int(max_upload_mb * 1024 * 1024), max_audio_seconds=max_audio_seconds,
                      max_text_chars=max_text_chars),
        webhooks=WebhookSettings(allow=webhook_allow, allow_loopback=webhook_allow_loopback,
                                 retry_base_seconds=webhook_retry_base, max_age_seconds=webhook_max_age),
        allowed_root=allowed_root.resolve() if allowed_root else None, workers=workers,
        lease_seconds=lease_seconds, max_attempts=max_attempts,
        retention_seconds=keep_hours * 3600 if keep_hours is not None else None)
    runner = DaskRunner(cluster) if cluster else None
    app = create_app(config, runner=runner)
    where = f"Dask cluster {cluster}" if cluster else f"{workers} worker process(es)"
    click.echo(f"visemes serve: http://{host}:{port}/ (API /v1, data {config.data_dir}, "
               f"{len(config.clients)} client(s), jobs on {where})", err=True)
    uvicorn.run(app, host=host, port=port, log_level="warning")
