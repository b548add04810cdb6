"""Progress on stderr: a rich bar on a terminal, plain throttled lines otherwise (logs, CI), or nothing."""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import Any

_LINE_INTERVAL_S = 1.0


class Reporter:
    """Shows one task's percentage. `show` False (fast tools, --quiet, --json) keeps stderr clean."""

    def __init__(self, label: str, *, show: bool) -> None:
        self.label = label
        self.show = show
        self.terminal = sys.stderr.isatty()
        self._bar: Any = None
        self._task: Any = None
        self._last_line = (0.0, -1, "")

    def __enter__(self) -> Reporter:
        if self.show and self.terminal:
            from rich.console import Console
            from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

            self._bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                TaskProgressColumn(),
                TimeElapsedColumn(),
                TextColumn("{task.fields[stage]}"),
                console=Console(stderr=True),
                transient=True,
            )
            self._bar.start()
            self._task = self._bar.add_task(self.label, total=100, stage="")
        return self

    def update(self, percent: float, message: str | None = None) -> None:
        if not self.show:
            return
        if self._bar is not None:
            self._bar.update(self._task, completed=percent, stage=message or "")
            return
        now = time.monotonic()
        last_time, last_pct, last_msg = self._last_line
        shown = int(percent)
        if shown != last_pct and (now - last_time >= _LINE_INTERVAL_S or (message or "") != last_msg or shown >= 100):
            self._last_line = (now, shown, message or "")
            print(f"{self.label}: {shown}%" + (f" {message}" if message else ""), file=sys.stderr, flush=True)

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self._bar is not None:
            self._bar.stop()
