"""Persistent cache of compiled XLA programs (JAX's compilation cache) for the aligner and the model.

A cold run spends much of its wall time compiling (~0.5-1 s per program shape on CPU); with the
cache, a later process loads the programs from disk instead. Nothing happens at import time: the
caller opts in by calling :func:`enable_compile_cache` once. The CLI does (first run fills the cache
in the user's cache folder, later runs read it) unless ``VISEMES_COMPILE_CACHE=0``; library users
call it themselves.

Several processes may share one directory: JAX writes an entry only when its key is absent and
reads entries independently; a half-written entry read by a concurrent process fails to
deserialize, which JAX reports as a warning and answers by compiling, never with a wrong program.
The key covers the program, the compile options, the JAX/jaxlib version and the device, so an
upgrade recompiles instead of reusing an old program.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

#: ``0``/``off``/``no``/``false`` turns the CLI's cache off; any other value is the folder to use.
ENV_VAR = "VISEMES_COMPILE_CACHE"
_OFF = {"0", "off", "no", "false"}


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/visemes/jax`` (``~/.cache/visemes/jax`` when XDG_CACHE_HOME is unset)."""
    root = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(root) / "visemes" / "jax"


def cache_dir_from_env() -> Path | None:
    """The folder :envvar:`VISEMES_COMPILE_CACHE` asks for: None when it turns the cache off, else that
    folder or :func:`default_cache_dir` when the variable is unset or empty."""
    value = os.environ.get(ENV_VAR, "").strip()
    if value.lower() in _OFF:
        return None
    try:
        return Path(value).expanduser() if value else default_cache_dir()
    except RuntimeError:  # no home folder to expand or to default to: run without a cache
        return None


def _settings(directory: Path) -> dict[str, object]:
    """JAX options (lower-case; the environment variable is the upper-case name) that cache every program."""
    return {"jax_compilation_cache_dir": str(directory), "jax_persistent_cache_min_compile_time_secs": 0.0,
            "jax_persistent_cache_min_entry_size_bytes": 0}


def _writable(directory: Path) -> bool:
    """Create ``directory`` and prove it writable with a real write (os.access lies for root and ACLs)."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".probe-", dir=directory)
        os.close(fd)
        os.unlink(probe)
    except OSError:
        return False
    return True


def enable_compile_cache(path: str | os.PathLike | None = None) -> Path | None:
    """Turn on JAX's persistent compilation cache in ``path`` (default: :func:`default_cache_dir`).

    Returns the directory in use, or None (and changes nothing) when the directory cannot be created or
    written: the run then compiles as without a cache. A directory the process already configured
    (``JAX_COMPILATION_CACHE_DIR`` or ``jax.config``) is kept: it is the user's choice. Programs that
    compile in under a second are cached too (JAX's default skips them, and every program of this
    aligner compiles in under a second). Worker processes started later inherit the choice through the
    environment (``JAX_COMPILATION_CACHE_DIR`` and the two thresholds).
    """
    import jax  # heavy: jax (~1 s); the cache folder helpers need none

    current = jax.config.jax_compilation_cache_dir
    if current:
        return Path(current)
    directory = Path(path) if path is not None else default_cache_dir()
    if not _writable(directory):
        return None
    for name, value in _settings(directory).items():
        jax.config.update(name, value)
        os.environ[name.upper()] = str(value)  # JAX reads these at import: workers (forkserver/spawn) follow
    # a process that compiled before opting in has already decided "no cache": make JAX look again
    from jax.experimental.compilation_cache import compilation_cache  # heavy: jax

    compilation_cache.reset_cache()
    return directory


def enable_default_compile_cache() -> Path | None:
    """What the CLI calls before a command that may use JAX: the cache in the folder
    :func:`cache_dir_from_env` names, or nothing when ``VISEMES_COMPILE_CACHE`` turns it off or the folder
    cannot be written (then the run compiles as without a cache). Never raises for an unusable folder.

    Before JAX is imported this only sets JAX's environment variables (so a command that never uses JAX
    never pays for importing it, and worker processes inherit the setting); afterwards it is
    :func:`enable_compile_cache`. A cache folder the user set for JAX (``JAX_COMPILATION_CACHE_DIR``) wins.
    """
    directory = cache_dir_from_env()
    if directory is None:
        return None
    if "jax" in sys.modules:
        return enable_compile_cache(directory)
    if os.environ.get("JAX_COMPILATION_CACHE_DIR"):
        return Path(os.environ["JAX_COMPILATION_CACHE_DIR"])
    if not _writable(directory):
        return None
    for name, value in _settings(directory).items():
        os.environ[name.upper()] = str(value)
    return directory
