"""Opt-in persistent cache of the aligner's compiled XLA programs (JAX's compilation cache).

A cold run spends most of its wall time compiling (~0.5-0.8 s per program shape on CPU); with the
cache, a second process loads the programs from disk instead. Nothing happens at import time: the
caller (CLI, benchmark, user) opts in by calling :func:`enable_compile_cache` once.

Several processes may share one directory: JAX writes an entry only when its key is absent and
reads entries independently; a half-written entry read by a concurrent process fails to
deserialize, which JAX reports as a warning and answers by compiling, never with a wrong program.
"""

from __future__ import annotations

import os
from pathlib import Path


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/visemes/jax`` (``~/.cache/visemes/jax`` when XDG_CACHE_HOME is unset)."""
    root = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(root) / "visemes" / "jax"


def enable_compile_cache(path: str | os.PathLike | None = None) -> Path:
    """Turn on JAX's persistent compilation cache in ``path`` (default: :func:`default_cache_dir`).

    Returns the directory in use. A directory the process already configured (``JAX_COMPILATION_CACHE_DIR``
    or ``jax.config``) is kept: it is the user's choice. Programs that compile in under a second are cached
    too (JAX's default skips them, and every program of this aligner compiles in under a second).
    """
    import jax  # heavy: jax (~1 s); the cache folder helpers need none

    current = jax.config.jax_compilation_cache_dir
    if current:
        return Path(current)
    directory = Path(path) if path is not None else default_cache_dir()
    directory.mkdir(parents=True, exist_ok=True)
    jax.config.update("jax_compilation_cache_dir", str(directory))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    # a process that compiled before opting in has already decided "no cache": make JAX look again
    from jax.experimental.compilation_cache import compilation_cache  # heavy: jax

    compilation_cache.reset_cache()
    return directory
