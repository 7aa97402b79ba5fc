"""The CLI's persistent compile cache: where it goes, the opt-out, unwritable folders, worker inheritance.

Each case runs in a fresh interpreter: JAX reads its cache settings once, at import."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("JAX_COMPILATION", "JAX_PERSISTENT", "VISEMES_COMPILE"))}
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, env={**clean, **env},
                          capture_output=True, text=True, timeout=300)


def test_cli_setup_sets_only_the_environment_before_jax_and_the_programs_land_in_the_user_cache(tmp_path):
    out = _python("""
        import os, sys
        import numpy as np
        from visemes.core.jitcache import enable_default_compile_cache
        d = enable_default_compile_cache()
        assert "jax" not in sys.modules, "setting up the cache must not import JAX"
        assert os.environ["JAX_COMPILATION_CACHE_DIR"] == str(d)
        import jax
        assert jax.config.jax_compilation_cache_dir == str(d)
        from visemes.alignment.builtin.viterbi import run_viterbi
        ll = np.zeros((1, 5, 3), np.float32)
        m = np.ones((1, 3), bool)
        run_viterbi(ll, m, m, m, np.zeros((1, 3), np.float32), np.array([5], np.int32))
        print(d)
    """, {"XDG_CACHE_HOME": str(tmp_path / "xdg")})
    assert out.returncode == 0, out.stderr
    cache = tmp_path / "xdg" / "visemes" / "jax"
    assert out.stdout.strip() == str(cache)
    assert any("viterbi" in e.name for e in cache.iterdir())


def test_opt_out_and_an_unwritable_folder_leave_jax_without_a_cache(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    for env in ({"VISEMES_COMPILE_CACHE": "0", "XDG_CACHE_HOME": str(tmp_path / "xdg")},
                {"VISEMES_COMPILE_CACHE": "off", "XDG_CACHE_HOME": str(tmp_path / "xdg")},
                {"VISEMES_COMPILE_CACHE": str(blocker / "cache")}):  # cannot be created
        out = _python("""
            import os
            from visemes.core.jitcache import enable_default_compile_cache
            assert enable_default_compile_cache() is None
            assert "JAX_COMPILATION_CACHE_DIR" not in os.environ
            import jax
            assert not jax.config.jax_compilation_cache_dir
        """, env)
        assert out.returncode == 0, (env, out.stderr)
    assert not (tmp_path / "xdg").exists()
    out = _python(f"""
        import jax
        from visemes.core.jitcache import enable_compile_cache
        assert enable_compile_cache({str(blocker / "sub")!r}) is None  # cannot be created: no cache, no error
        assert not jax.config.jax_compilation_cache_dir
    """, {})
    assert out.returncode == 0, out.stderr


def test_a_folder_the_user_gave_jax_wins_and_an_env_folder_is_used(tmp_path):
    out = _python("""
        from visemes.core.jitcache import enable_default_compile_cache
        print(enable_default_compile_cache())
    """, {"JAX_COMPILATION_CACHE_DIR": str(tmp_path / "mine"), "VISEMES_COMPILE_CACHE": str(tmp_path / "ours")})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == str(tmp_path / "mine")
    out = _python("""
        import jax  # already imported: the setup goes through jax.config
        from visemes.core.jitcache import enable_default_compile_cache
        d = enable_default_compile_cache()
        assert jax.config.jax_compilation_cache_dir == str(d)
        print(d)
    """, {"VISEMES_COMPILE_CACHE": str(tmp_path / "ours")})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == str(tmp_path / "ours") and (tmp_path / "ours").is_dir()


def test_the_cli_fills_the_cache_for_align_and_not_for_commands_without_jax(tmp_path):
    audio = tmp_path / "a.wav"
    out = _python(f"""
        import numpy as np, soundfile as sf
        rng = np.random.default_rng(0)
        t = np.arange(16000) / 16000
        x = np.concatenate([np.zeros(3200), 0.3 * np.sin(2 * np.pi * 180 * t[:8000]) * (1 + 0.2 * rng.normal(size=8000)),
                            np.zeros(3200)]).astype(np.float32)
        sf.write({str(audio)!r}, x, 16000)
        from visemes.cli.main import main
        assert main(["langs"]) == 0
        import os, sys
        assert "JAX_COMPILATION_CACHE_DIR" not in os.environ and "jax" not in sys.modules
        assert main(["align", {str(audio)!r}, "--phones", "a", "-o", {str(tmp_path / "a.TextGrid")!r}]) == 0
    """, {"XDG_CACHE_HOME": str(tmp_path / "xdg")})
    assert out.returncode == 0, out.stderr
    assert any((tmp_path / "xdg" / "visemes" / "jax").iterdir())
