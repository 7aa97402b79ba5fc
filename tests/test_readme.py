"""README.md stays true: its language table matches the packs, its commands match .ci/run and the CLI."""

from __future__ import annotations

import re
from pathlib import Path

from visemes.lang_packs.tools.readme_table import render_table, splice
from visemes.cli.main import COMMANDS

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_language_table_is_current():
    assert splice(README, render_table()) == README, "run: python -m visemes.lang_packs.tools.readme_table"


def test_language_table_lists_every_required_pack():
    required = ("cmn cmn-TW yue ar ar-EG ar-LB hi ur bn ta te mr en-US en-GB en-IN es es-MX pt-BR pt-PT fr de "
                "it ru uk pl nl tr fa he ja ko vi th id sw").split()
    listed = set(re.findall(r"^\| `([^`]+)` \|", README, flags=re.M))
    assert set(required) <= listed, sorted(set(required) - listed)


def test_ci_runs_the_readme_test_command():
    test_command = 'pip install ".[test]" && python -m pytest'
    assert test_command in README
    assert test_command in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_readme_main_job_is_the_demo():
    assert "pip install . && visemes demo" in README


def test_every_cli_command_the_readme_shows_exists():
    shown = set(re.findall(r"^visemes ([a-z0-9-]+)", README, flags=re.M))
    assert shown, "README shows no visemes command"
    assert shown <= set(COMMANDS), sorted(shown - set(COMMANDS))
