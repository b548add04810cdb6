"""Sliding-window counters for login throttling and per-credential API rate limits (in process)."""

from __future__ import annotations

import math
import threading
import time
from collections import deque


class SlidingWindow:
    """Counts events per key over the last `window_s` seconds."""

    def __init__(self, window_s: float = 60.0) -> None:
        self.window_s = window_s
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _trim(self, key: str, now: float) -> deque[float]:
        q = self._events.setdefault(key, deque())
        while q and q[0] <= now - self.window_s:
            q.popleft()
        return q

    def count(self, key: str) -> int:
        with self._lock:
            q = self._trim(key, time.monotonic())
            if not q:
                self._events.pop(key, None)
            return len(q)

    def add(self, key: str) -> int:
        with self._lock:
            now = time.monotonic()
            q = self._trim(key, now)
            q.append(now)
            return len(q)

    def retry_after(self, key: str) -> int:
        """Seconds until the oldest event in the window expires."""
        with self._lock:
            q = self._trim(key, time.monotonic())
            if not q:
                return 0
            return max(1, math.ceil(q[0] + self.window_s - time.monotonic()))

    def reset(self, key: str) -> None:
        with self._lock:
            self._events.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._events.clear()


class FixedWindowLimiter:
    """Per-credential request limit in fixed one-minute windows (what X-RateLimit-Reset describes)."""

    def __init__(self) -> None:
        self._windows: dict[str, tuple[int, int]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, limit: int) -> tuple[bool, int, int]:
        """Count one request; returns (allowed, remaining, reset_epoch_s)."""
        now = time.time()
        window = int(now // 60)
        reset = (window + 1) * 60
        with self._lock:
            start, used = self._windows.get(key, (window, 0))
            if start != window:
                used = 0
                if len(self._windows) > 50_000:
                    self._windows.clear()
            if used >= limit:
                self._windows[key] = (window, used)
                return False, 0, reset
            used += 1
            self._windows[key] = (window, used)
            return True, limit - used, reset

    def clear(self) -> None:
        with self._lock:
            self._windows.clear()


login_failures = SlidingWindow(60.0)
api_limiter = FixedWindowLimiter()
