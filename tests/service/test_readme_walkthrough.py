"""The README's `curl` walk-through works as written: its bash block runs against a real `visemes serve`
(only the port is changed, to a free one), receives the signed webhook and downloads a readable JSON
document, TextGrid and plot."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("starlette", reason="the service tests need the [service] extra: pip install '.[service]'")
pytest.importorskip("uvicorn", reason="the service tests need the [service] extra: pip install '.[service]'")

from visemes.formats import FORMATS  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
MARKER = "<!-- service-walkthrough:"


def walkthrough() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    after = readme[readme.index(MARKER):]
    return re.search(r"```bash\n(.*?)```", after, flags=re.S).group(1)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("curl") is None or shutil.which("bash") is None, reason="needs curl and bash")
def test_readme_curl_walkthrough_runs_as_written(tmp_path):
    script = walkthrough()
    assert script.startswith("PORT=8000\n")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    script = script.replace("PORT=8000\n", f"PORT={port}\n", 1)
    bindir = Path(sys.executable).parent  # `visemes` and `python` of this environment
    env = {**os.environ, "PATH": f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}", "PYTHONPATH": str(ROOT),
           "MPLBACKEND": "Agg", "JAX_PLATFORMS": "cpu"}
    log = tmp_path / "walkthrough.log"
    with open(log, "wb") as sink:  # a file, not a pipe: the server's processes may close it after the script
        proc = subprocess.Popen(["bash", "-e", "-c", script], cwd=tmp_path, env=env, stdout=sink,
                                stderr=subprocess.STDOUT, start_new_session=True)
    try:
        proc.wait(timeout=300)
        out = log.read_text(errors="replace")
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # the server it started, if the script stopped early
        except ProcessLookupError:
            pass
    assert proc.returncode == 0, out[-3000:]
    assert "succeeded" in out, out[-3000:]
    hook = json.loads((tmp_path / "hook.json").read_text(encoding="utf-8"))  # the signature was checked on receipt
    assert hook["type"] == "job.succeeded" and f"webhook job.succeeded {hook['data']['id']}" in out, out[-3000:]
    doc = FORMATS["json"].read(tmp_path / "take.json")
    assert doc.alignment.has_tier("phones") and len(doc.alignment.visemes) > 0
    assert (tmp_path / "take.TextGrid").read_text(encoding="utf-8").startswith('File type = "ooTextFile"')
    assert (tmp_path / "take.png").read_bytes()[:4] == b"\x89PNG"
