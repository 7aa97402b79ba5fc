"""Atomic file writes: a crash or a full disk never leaves a half-written output behind."""

from __future__ import annotations

import contextlib
import contextvars
import errno
import functools
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from visemes.core.errors import ExportError, OutputExistsError, OutputWriteError


@functools.lru_cache(maxsize=1)  # os.umask can only be read by setting it: do it once, not per write
def _umask_mode() -> int:
    """Mode a plain ``open()`` would give a new file (mkstemp's 0600 would hide outputs from other users)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def check_writable(path: str | os.PathLike, overwrite: bool = False) -> Path:
    path = Path(path)
    if path.exists() and not overwrite:
        raise OutputExistsError(path)
    if path.exists() and path.is_dir():
        raise ExportError(f"{path} is a directory; give a file path for this output.")
    return path


#: Inside :func:`all_or_nothing`: the (temporary, final) renames waiting for the whole set to succeed.
_PENDING: contextvars.ContextVar[list[tuple[Path, Path]] | None] = contextvars.ContextVar("_PENDING", default=None)


def _write_error(path: Path, exc: OSError) -> OutputWriteError:
    reason = exc.strerror or str(exc)
    if exc.errno == errno.ENOSPC:
        hint = "free some space or choose another output folder, then run again"
    elif exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        hint = "choose a writable output folder"
    else:
        hint = "check the output folder, then run again"
    return OutputWriteError(f"Cannot write {path}: {reason}; {hint}.")


def _commit(tmp: Path, path: Path) -> None:
    """Move a finished temporary file into place, now or (inside :func:`all_or_nothing`) with the set."""
    os.chmod(tmp, _umask_mode())
    pending = _PENDING.get()
    if pending is None:
        os.replace(tmp, path)
    else:
        pending.append((tmp, path))


@contextlib.contextmanager
def all_or_nothing() -> Iterator[None]:
    """Every atomic write inside the block stays a temporary file until the block succeeds; then all are
    renamed into place. If anything fails, no output of the set appears (a rerun starts clean)."""
    if _PENDING.get() is not None:  # nested: the outer set decides
        yield
        return
    pending: list[tuple[Path, Path]] = []
    token = _PENDING.set(pending)
    try:
        yield
    except BaseException:
        for tmp, _ in pending:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        raise
    finally:
        _PENDING.reset(token)
    for i, (tmp, path) in enumerate(pending):
        try:
            os.replace(tmp, path)
        except OSError as exc:
            for later, _ in pending[i:]:
                with contextlib.suppress(OSError):
                    os.unlink(later)
            raise _write_error(path, exc) from None


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "w", overwrite: bool = False, encoding: str | None = "utf-8") -> Iterator[IO]:
    """Open a temporary file beside ``path``; rename it over ``path`` only if the block succeeds."""
    path = check_writable(path, overwrite)
    directory = path.parent if str(path.parent) else Path(".")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise _write_error(path, exc) from None
    binary = "b" in mode
    try:
        with os.fdopen(fd, mode, encoding=None if binary else encoding, newline=None if binary else "") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        _commit(Path(tmp), path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError) and not isinstance(exc, FileExistsError):  # disk full, read-only, I/O
            raise _write_error(path, exc) from None
        raise


def atomic_write_text(path: str | os.PathLike, text: str, overwrite: bool = False) -> Path:
    with atomic_open(path, "w", overwrite=overwrite) as fh:
        fh.write(text)
    return Path(path)


def atomic_write_bytes(path: str | os.PathLike, data: bytes, overwrite: bool = False) -> Path:
    with atomic_open(path, "wb", overwrite=overwrite) as fh:
        fh.write(data)
    return Path(path)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, overwrite: bool = False, suffix: str = "") -> Iterator[Path]:
    """For libraries that insist on writing to a path themselves (praatio, soundfile, ffmpeg):
    yields a temporary path beside ``path`` and moves it into place when the block succeeds."""
    path = check_writable(path, overwrite)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix or path.suffix, dir=path.parent)
        os.close(fd)
    except OSError as exc:
        raise _write_error(path, exc) from None
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        _commit(tmp_path, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            tmp_path.unlink()
        if isinstance(exc, OSError) and not isinstance(exc, FileExistsError):
            raise _write_error(path, exc) from None
        raise
