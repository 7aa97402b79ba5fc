"""The package's shape: one import name, layers that point one way, no import cycles.

The repository keeps alignment/, lang_packs/ and models/ beside visemes/ and the build maps them into
the namespace, so import-linter (which walks folders) is run on a copy laid out as installed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def installed_layout(tmp_path_factory) -> Path:
    """The source tree copied into the shape the wheel installs (visemes/alignment/..., no top-level others)."""
    site = tmp_path_factory.mktemp("layout")
    skip = shutil.ignore_patterns("__pycache__", "*.pyc")
    for package, folder in PYPROJECT["tool"]["setuptools"]["package-dir"].items():
        shutil.copytree(ROOT / folder, site.joinpath(*package.split(".")), ignore=skip, dirs_exist_ok=True)
    return site


def _run(code: str, site: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(site)}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=site, env=env,
                          timeout=300)


def test_every_package_folder_is_listed_for_the_build():
    """pyproject lists packages by hand (package-dir mapping): every folder with Python or shipped data
    inside the mapped folders must be listed, and nothing else."""
    listed = set(PYPROJECT["tool"]["setuptools"]["packages"])
    found = set()
    for package, folder in PYPROJECT["tool"]["setuptools"]["package-dir"].items():
        root = ROOT / folder
        for path in root.rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                rel = path.parent.relative_to(root).parts
                found.add(".".join((package, *rel)))
    assert found == listed, f"packages missing from pyproject: {sorted(found - listed)}; stale: {sorted(listed - found)}"


def test_layer_contract_holds(installed_layout):
    pytest.importorskip("importlinter", reason="import-linter is a test dependency: pip install '.[test]'")
    env = {**os.environ, "PYTHONPATH": str(installed_layout)}
    # lint-imports' own entry point, run by this interpreter (the console script may not be on PATH)
    code = "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())"
    run = subprocess.run([sys.executable, "-c", code, "--no-cache", str(ROOT / "pyproject.toml")],
                         capture_output=True, text=True, cwd=installed_layout, env=env, timeout=300)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "0 broken" in run.stdout


CYCLES = r"""
import json, sys
import grimp
graph = grimp.build_graph("visemes", cache_dir=None)
modules = sorted(graph.modules)
edges = {m: sorted(graph.find_modules_directly_imported_by(m)) for m in modules}
# Strongly connected components (Tarjan) of the module graph; any of more than one module is a cycle.
index, low, stack, on, sccs, counter = {}, {}, [], set(), [], [0]
sys.setrecursionlimit(10000)
def visit(v):
    index[v] = low[v] = counter[0]; counter[0] += 1; stack.append(v); on.add(v)
    for w in edges[v]:
        if w not in index:
            visit(w); low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        comp = []
        while True:
            w = stack.pop(); on.discard(w); comp.append(w)
            if w == v: break
        if len(comp) > 1: sccs.append(sorted(comp))
for m in modules:
    if m not in index: visit(m)
print(json.dumps(sccs))
"""


def test_no_import_cycles(installed_layout):
    """Every import counts, function-level ones included: a deferred import must not hide a cycle."""
    run = _run(CYCLES, installed_layout)
    assert run.returncode == 0, run.stderr[-3000:]
    cycles = json.loads(run.stdout)
    assert cycles == [], f"import cycles among project modules: {cycles}"


def test_only_visemes_is_a_top_level_name(installed_layout):
    run = _run("import visemes.alignment, visemes.models, visemes.lang_packs\n"
               "import importlib.util as u\n"
               "print([n for n in ('alignment', 'models', 'lang_packs') if u.find_spec(n)])", installed_layout)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"
