"""The corpus runner's progress on stderr: one :class:`visemes.core.progress.ProgressBar` per phase
(preparing, adapting, the job), failures counted after the bar."""

from __future__ import annotations

from typing import Self

from visemes.core.progress import ProgressBar
from visemes.pipeline.corpus import FileOutcome


class RichProgress:
    """A :class:`visemes.pipeline.runner.Progress` that draws the project's progress bar; use it as a
    context manager."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self.failed = 0
        self._bar: ProgressBar | None = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self._close()

    def _close(self) -> None:
        if self._bar is not None:
            self._bar.close()  # the finished phase's bar stays on screen
            self._bar = None

    def phase(self, name: str, total: int) -> None:
        self._close()
        self._bar = ProgressBar(total, name, enabled=self.enabled)

    def advance(self, outcome: FileOutcome | None = None) -> None:
        if self._bar is None:
            return
        self.failed += outcome is not None and outcome.status == "failed"
        self._bar.advance(status=f"[red]{self.failed} failed" if self.failed else "")
