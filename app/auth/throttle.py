"""Sliding-window counters for login throttling and per-credential API rate limits.

In process by default; in the scaled mode `shared` points at a Redis implementation of the same
methods (app.cluster.limits), so every API node counts against the same limits.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Sequence
from typing import Any


class SlidingWindow:
    """Counts events per key over the last `window_s` seconds."""

    def __init__(self, window_s: float = 60.0) -> None:
        self.window_s = window_s
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()
        self.shared: Any = None

    def _trim(self, key: str, now: float) -> deque[float]:
        q = self._events.setdefault(key, deque())
        while q and q[0] <= now - self.window_s:
            q.popleft()
        return q

    def _retry_after(self, q: deque[float], now: float) -> int:
        return max(1, math.ceil(q[0] + self.window_s - now)) if q else 0

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

    def attempt(self, keys: Sequence[str], limit: int) -> int:
        """Records one attempt under every key unless one of them is at `limit` already.

        Returns 0 when the attempt was recorded, else the seconds until it may be retried. Checking
        and recording under one lock is what keeps a burst of parallel guesses within the limit:
        a separate check-then-add would let every request of the burst pass the check together.
        """
        if self.shared is not None:
            return self.shared.attempt(keys, limit)
        with self._lock:
            now = time.monotonic()
            queues = [self._trim(k, now) for k in keys]
            full = [q for q in queues if len(q) >= limit]
            if full:
                return max(self._retry_after(q, now) for q in full)
            for q in queues:
                q.append(now)
            return 0

    def forget_one(self, key: str) -> None:
        """Takes back the newest event of `key` (an attempt that turned out to succeed)."""
        if self.shared is not None:
            return self.shared.forget_one(key)
        with self._lock:
            q = self._events.get(key)
            if q:
                q.pop()

    def retry_after(self, key: str) -> int:
        """Seconds until the oldest event in the window expires."""
        with self._lock:
            now = time.monotonic()
            return self._retry_after(self._trim(key, now), now)

    def reset(self, key: str) -> None:
        if self.shared is not None:
            return self.shared.reset(key)
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
        self.shared: Any = None

    def hit(self, key: str, limit: int) -> tuple[bool, int, int, int]:
        """Count one request; returns (allowed, remaining, reset_epoch_s, retry_after_s).

        retry_after comes from the same clock reading as reset, so the two headers always agree.
        """
        if self.shared is not None:
            return self.shared.hit(key, limit)
        now = time.time()
        window = int(now // 60)
        reset = (window + 1) * 60
        retry_after = max(1, math.ceil(reset - now))
        with self._lock:
            start, used = self._windows.get(key, (window, 0))
            if start != window:
                used = 0
                if len(self._windows) > 50_000:
                    self._windows.clear()
            if used >= limit:
                self._windows[key] = (window, used)
                return False, 0, reset, retry_after
            used += 1
            self._windows[key] = (window, used)
            return True, limit - used, reset, retry_after

    def clear(self) -> None:
        with self._lock:
            self._windows.clear()


login_failures = SlidingWindow(60.0)
api_limiter = FixedWindowLimiter()
