"""The corpus runner's progress on stderr, drawn by rich (one bar per phase: preparing, adapting, the job)."""

from __future__ import annotations

from typing import Self

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from visemes.pipeline.corpus import FileOutcome


class RichProgress:
    """A :class:`visemes.pipeline.runner.Progress` that draws rich bars; use it as a context manager."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self.failed = 0
        self._bar = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            TimeRemainingColumn(), TextColumn("{task.fields[status]}"), console=Console(stderr=True),
            disable=not enabled,
        )
        self._task: TaskID | None = None

    def __enter__(self) -> Self:
        self._bar.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._bar.__exit__(*exc)

    def phase(self, name: str, total: int) -> None:
        self._task = self._bar.add_task(name, total=total, status="")

    def advance(self, outcome: FileOutcome | None = None) -> None:
        if self._task is None:
            return
        self.failed += outcome is not None and outcome.status == "failed"
        self._bar.update(self._task, advance=1, status=f"[red]{self.failed} failed" if self.failed else "")
