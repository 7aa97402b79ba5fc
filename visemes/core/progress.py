"""One progress bar for the project's long loops (training steps, teacher synthesis, corpus files).

A rich bar on stderr (stdout stays clean for tables and JSON), or nothing when disabled, behind one
small interface: ``advance(n, status=...)`` and ``close()``, usable as a context manager; :func:`track`
wraps an iterable. Callers never touch rich themselves.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from types import TracebackType
from typing import TypeVar

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

T = TypeVar("T")


class ProgressBar:
    """``total`` steps of ``description`` (``unit`` after the count); ``initial`` already done (a resumed
    run). With ``enabled=False`` every call is a no-op, so loops need no ``if``."""

    def __init__(self, total: int | None, description: str, *, unit: str = "", initial: int = 0,
                 enabled: bool = True) -> None:
        self.total = total
        self.done = int(initial)
        self._progress: Progress | None = None
        if not enabled:
            return
        self._progress = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn(unit),
            TimeElapsedColumn(), TimeRemainingColumn(), TextColumn("{task.fields[status]}"),
            console=Console(stderr=True), transient=False,
        )
        self._progress.start()
        self._task = self._progress.add_task(description, total=total, completed=self.done, status="")

    def advance(self, n: int = 1, *, status: str | None = None) -> None:
        """``n`` more steps done; ``status`` (e.g. ``"loss 0.0123"``) replaces the text after the bar."""
        self.done += n
        if self._progress is not None:
            fields = {} if status is None else {"status": status}
            self._progress.update(self._task, advance=n, **fields)

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def track(items: Iterable[T], description: str, *, total: int | None = None, enabled: bool = True) -> Iterator[T]:
    """Yield ``items`` while a :class:`ProgressBar` counts them (``total``: ``len(items)`` when it has one)."""
    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]
    with ProgressBar(total, description, enabled=enabled) as bar:
        for item in items:
            yield item
            bar.advance()
