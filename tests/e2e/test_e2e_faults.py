"""Fault injection on the way out: a read-only output folder, a full disk, a writer failing half-way.

Every failure is one ``error:`` line (no traceback), and a failed job leaves no output of its set and
no temporary file behind, so the same command can simply be run again. Read-only and full file systems
are real: small tmpfs mounts (needs root; skipped with the reason otherwise).
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from visemes.cli.main import main
from visemes.core import atomic
from visemes.core.errors import ExportError
from visemes.formats import FORMATS


@pytest.fixture()
def tmpfs(tmp_path):
    """``mount(name, size, read_only)`` -> a fresh tmpfs folder; unmounted after the test."""
    mounted: list[Path] = []

    def mount(name: str, size: str, read_only: bool = False) -> Path:
        point = tmp_path / name
        point.mkdir()
        if shutil.which("mount") is None:
            pytest.skip("no mount command: cannot make a small or read-only file system")
        options = f"size={size}" + (",ro" if read_only else "")
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(point)], capture_output=True,
                              text=True)
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip() or done.returncode}); needs root")
        mounted.append(point)
        return point

    yield mount
    for point in reversed(mounted):
        subprocess.run(["umount", str(point)], capture_output=True)


def _remount(point: Path, size: str) -> None:
    subprocess.run(["mount", "-o", f"remount,size={size}", str(point)], check=True, capture_output=True)


def _files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


def _animate_all(speech, out: Path) -> list[str]:
    return ["animate", str(speech.path), "--text", speech.text, "--lang", "en-US", "--no-model", "-o", str(out),
            "--format", "all"]


def _one_error_line(err: str, *needles: str) -> None:
    assert "Traceback" not in err
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert all(n in lines[0] for n in needles), lines[0]


def test_read_only_output_folder(en_speech, tmpfs, capsys):
    ro = tmpfs("ro", "1m", read_only=True)
    assert main(_animate_all(en_speech, ro / "out")) == 2
    _one_error_line(capsys.readouterr().err, "Read-only file system", "writable output folder")
    assert main(_animate_all(en_speech, ro)) == 2
    _one_error_line(capsys.readouterr().err, "Read-only file system")
    assert main(["text2visemes", "hello", "--lang", "en-US", "-o", str(ro / "hello.json")]) == 2
    _one_error_line(capsys.readouterr().err, "Read-only file system")
    assert _files(ro) == []


def test_full_disk_leaves_nothing_and_a_rerun_proceeds(en_speech, tmpfs, capsys):
    small = tmpfs("small", "48k")
    args = _animate_all(en_speech, small)
    assert main(args) == 2
    _one_error_line(capsys.readouterr().err, "No space left on device", "free some space")
    assert _files(small) == []  # no half-written output, no temporary file
    _remount(small, "16m")
    assert main(args) == 0
    capsys.readouterr()
    written = _files(small)
    assert "hello.summary.json" in written and len(written) == len(FORMATS) + 1
    assert not any(name.startswith(".") for name in written)


def test_a_write_failing_half_way_leaves_none_of_the_set(en_result, tmp_path, monkeypatch):
    """Without root: the fourth file of the set hits ENOSPC; the three finished before it never appear."""
    names = ["json", "csv", "textgrid", "rhubarb-tsv", "audacity"]
    real_commit, calls = atomic._commit, []

    def commit(tmp, path):
        calls.append(path)
        if len(calls) == 4:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_commit(tmp, path)

    monkeypatch.setattr(atomic, "_commit", commit)
    out = tmp_path / "out"
    with pytest.raises(ExportError, match="No space left on device"):
        en_result.save(out, names)
    assert len(calls) == 4 and _files(out) == []  # no output, no temporary file
    monkeypatch.undo()
    written = en_result.save(out, names)  # the rerun proceeds
    expected = [FORMATS[n].path_for(out, en_result.name).name for n in names] + [f"{en_result.name}.summary.json"]
    assert sorted(p.name for p in written) == sorted(expected) == _files(out)
