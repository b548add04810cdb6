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

    def attempt(self, keys: Sequence[str], limit: int | Sequence[int]) -> int:
        """Records one attempt under every key unless one of them is at its limit already.

        `limit` is one for all keys, or one per key (an account's limit and its address's).

        Returns 0 when the attempt was recorded, else the seconds until it may be retried. Checking
        and recording under one lock is what keeps a burst of parallel guesses within the limit:
        a separate check-then-add would let every request of the burst pass the check together.
        """
        if self.shared is not None:
            return self.shared.attempt(keys, limit)
        with self._lock:
            now = time.monotonic()
            queues = [self._trim(k, now) for k in keys]
            limits = [limit] * len(keys) if isinstance(limit, int) else list(limit)
            full = [q for q, lim in zip(queues, limits, strict=True) if len(q) >= lim]
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

    def full(self, keys: Sequence[str], limits: Sequence[int]) -> int:
        """Seconds until every key is under its limit again; 0 when none is at it."""
        with self._lock:
            now = time.monotonic()
            waits = [
                self._retry_after(q, now)
                for q, lim in zip((self._trim(k, now) for k in keys), limits, strict=True)
                if len(q) >= lim
            ]
            return max(waits, default=0)

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


class LoginThrottle:
    """Failed sign-ins counted per account and per client address, each with its own limit.

    The account limit (loginAttemptLimit, 5 a minute by default) stops guessing one password; the
    address limit (LOGIN_IP_ATTEMPT_LIMIT, much higher) stops one address sweeping many accounts.
    An account that is locked never blocks another account, even from the same address (a reverse
    proxy without TRUST_PROXY shows every user with one address).
    Other sign-in steps (a second factor) use check() and record_failure() with the same keys.
    """

    def __init__(self, window: SlidingWindow) -> None:
        self.window = window

    @staticmethod
    def keys(account: str, address: str) -> tuple[str, str]:
        return f"user:{account.lower()}", f"ip:{address}"

    def _limits(self, account_limit: int) -> tuple[int, int]:
        from app.config import get_settings  # at call time: tests change the settings between apps

        return account_limit, max(account_limit, get_settings().login_ip_attempt_limit)

    def begin(self, account: str, address: str, account_limit: int) -> int:
        """Counts an attempt before the password is checked; returns the seconds to wait, or 0 to go on.

        Counting first keeps a burst of parallel guesses within the limit; succeeded() takes it back.
        """
        return self.window.attempt(self.keys(account, address), self._limits(account_limit))

    def succeeded(self, account: str, address: str) -> None:
        account_key, address_key = self.keys(account, address)
        self.window.reset(account_key)
        self.window.forget_one(address_key)

    def record_failure(self, account: str, address: str) -> None:
        """One more failure for (account, address), e.g. a wrong second-factor code."""
        for key in self.keys(account, address):
            self.window.add(key)

    def check(self, account: str, address: str, account_limit: int) -> int:
        """Seconds until (account, address) may try again; 0 when neither is at its limit."""
        return self.window.full(self.keys(account, address), self._limits(account_limit))


login_failures = SlidingWindow(60.0)
login_throttle = LoginThrottle(login_failures)
api_limiter = FixedWindowLimiter()
