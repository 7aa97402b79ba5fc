"""The service is an optional extra: the library and the rest of the CLI never import it, and
`visemes serve` without it says what to install (these tests need no extra themselves)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXTRA = ("starlette", "uvicorn", "multipart", "python_multipart", "standardwebhooks", "httpx")

BLOCK = f"""
import sys, importlib.abc
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {EXTRA!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None
sys.meta_path.insert(0, Block())
import importlib.util
_find = importlib.util.find_spec
importlib.util.find_spec = lambda n, p=None: None if n.split(".")[0] in {EXTRA!r} else _find(n, p)
"""


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300)


def test_library_and_cli_do_not_import_the_service_stack():
    run = _run("import sys\n"
               "import visemes, visemes.pipeline.animator, visemes.formats, visemes.cli.main\n"
               "from visemes.cli.main import main\n"
               "main(['--help'])\n"
               f"print(sorted(m for m in sys.modules if m.split('.')[0] in {EXTRA!r} or m.startswith('visemes.service')))")
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().splitlines()[-1] == "[]"


def test_serve_without_the_extra_names_what_to_install():
    run = _run(BLOCK + "from visemes.cli.main import main\nraise SystemExit(main(['serve']))")
    assert run.returncode == 2, (run.stdout, run.stderr)
    assert "pip install 'visemes[service]'" in run.stderr and "starlette" in run.stderr
