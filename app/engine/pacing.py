"""Steady progress for long steps made of slow parts (tiles of an upscale, pages of an OCR run).

A part can take tens of seconds on a small CPU, and the bar would stand still for all of it. A Pacer
runs a small thread that, every second, moves the bar through the current part at the pace the parts
done so far took (never past 90 % of the part, so it cannot overtake the real report), and learns
when a part is done either from the tool (`advance`) or by asking (`poll`, e.g. counting the files an
external program has written).

    with Pacer(ctx, 5, 90, total=len(tiles), label=lambda n, t: f"Upscaling: tile {n} of {t}") as pacer:
        for i, tile in enumerate(tiles, 1):
            work(tile)
            pacer.advance(i)
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from types import TracebackType

from app.engine.tool import ToolContext

FIRST_GUESS_S = 10.0  # how long the first part is assumed to take until one has been timed
CAP = 0.9  # the furthest into a part the bar goes on its own


class Pacer:
    def __init__(
        self,
        ctx: ToolContext,
        start: float,
        end: float,
        *,
        total: int,
        label: Callable[[int, int], str],
        poll: Callable[[], int] | None = None,
        interval_s: float = 1.0,
    ) -> None:
        self.ctx, self.start, self.end = ctx, start, end
        self.total = max(1, total)
        self.label = label
        self.poll = poll
        self.interval_s = interval_s
        self.done = 0
        self._began = self._part_began = time.monotonic()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pacer", daemon=True)

    def __enter__(self) -> Pacer:
        self.ctx.progress(self.start, self.label(1, self.total))
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._stop.set()
        self._thread.join()

    def _pct(self, parts: float) -> float:
        return self.start + (self.end - self.start) * min(1.0, parts / self.total)

    def advance(self, done: int) -> None:
        """`done` parts are finished (a real report)."""
        with self._lock:
            if done <= self.done:
                return
            self.done = min(done, self.total)
            self._part_began = time.monotonic()
            # Reported under the lock: the pacing thread's reports and this one never cross.
            self.ctx.progress(self._pct(self.done), self.label(min(self.done + 1, self.total), self.total))

    def _pace(self) -> float:
        """Seconds a part takes, from the parts done so far."""
        return (self._part_began - self._began) / self.done if self.done else FIRST_GUESS_S

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            if self.poll is not None:
                self.advance(self.poll())
            with self._lock:
                if self.done >= self.total:
                    continue
                into = min(CAP, (time.monotonic() - self._part_began) / max(0.001, self._pace()))
                self.ctx.progress(self._pct(self.done + into), self.label(self.done + 1, self.total))
