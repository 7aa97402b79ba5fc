"""The built wheel carries every pack and the shipped data: build it, install it into a fresh venv, load from there."""

from __future__ import annotations

import json
import site
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

from packs_util import builtin_codes

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_wheel_ships_and_loads_every_pack(tmp_path):
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-q", "-w", str(wheels)],
                   check=True, cwd=tmp_path, capture_output=True, timeout=300)
    (wheel,) = wheels.glob("visemes-*.whl")
    venv = tmp_path / "venv"
    # --without-pip: ensurepip costs ~20 s; this environment's pip installs into the venv (--python)
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)],
                   check=True, timeout=120)
    py = venv / "bin" / "python"
    # the dependencies come from the environment running the tests (a path line in a .pth, which, unlike
    # a site dir, does not run that environment's own .pth files, so an editable checkout stays invisible)
    purelib = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True).stdout.strip()
    Path(purelib, "_visemes_test_deps.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(py), "install", "-q", "--no-deps",
                    "--force-reinstall", str(wheel)], check=True, capture_output=True, timeout=300)
    script = textwrap.dedent("""
        import importlib.util, json
        from visemes import lang_packs
        out = {}
        for info in lang_packs.available():
            pack = lang_packs.load(info.code)
            out[info.code] = [pack.code, len(pack.inventory), info.coverage, lang_packs.__file__]
        from importlib.resources import files
        shipped = {name: files(pkg).joinpath(rel).is_file() for name, pkg, rel in [
            ("aligner prior", "visemes.alignment", "builtin/data/prior.json"),
            ("aligner calibration", "visemes.alignment", "builtin/data/calibration.json"),
            ("model weights", "visemes.models", "weights/base.safetensors"),
            ("model config", "visemes.models", "weights/base.json"),
            ("phone vocabulary", "visemes.models", "weights/phone_vocab.json"),
        ]}
        others = [n for n in ("alignment", "models", "lang_packs") if importlib.util.find_spec(n)]
        print(json.dumps({"packs": out, "shipped": shipped, "other_top_level": others}))
    """)
    run = subprocess.run([str(py), "-c", script], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["other_top_level"] == []  # `import models` fails outside the checkout
    with zipfile.ZipFile(wheel) as zf:
        top = {name.split("/")[0] for name in zf.namelist() if not name.split("/")[0].endswith(".dist-info")}
    assert top == {"visemes"}, top  # one import name in site-packages
    assert all(result["shipped"].values()), result["shipped"]  # data the aligner and model need at run time
    loaded = result["packs"]
    assert set(loaded) == set(builtin_codes())
    for code, (_, n_phones, coverage, where) in loaded.items():
        assert n_phones > 20 and coverage == 1.0, code
        assert str(ROOT) not in where and "site-packages" in where  # the installed copy, not the checkout
