"""Counts of uploads streaming right now, per user and in total (one process, touched only on the event loop)."""

from __future__ import annotations

from collections import Counter

from app.errors import ServerBusy, TooManyRequests

# Uploads end within seconds to minutes; a short hint spreads the retries of a busy client.
RETRY_AFTER_S = 5


def too_many(what: str, limit: int, env: str) -> TooManyRequests:
    return TooManyRequests(
        f"Too many {what} of yours at once (limit {limit}, {env}); retry in a few seconds",
        code="TOO_MANY_REQUESTS",
        headers={"Retry-After": str(RETRY_AFTER_S)},
    )


def busy(what: str, limit: int, env: str) -> ServerBusy:
    return ServerBusy(
        f"The server is busy: {limit} {what} at once is its limit ({env}); retry in a few seconds",
        headers={"Retry-After": str(RETRY_AFTER_S)},
    )


class UploadSlots:
    """A slot per streaming upload; taking one over a limit raises 429 (the user's) or 503 (the total)."""

    def __init__(self) -> None:
        self._per_user: Counter[str] = Counter()
        self.total = 0

    def acquire(self, user_id: str, per_user: int, total: int) -> None:
        # The user's own limit first: one greedy client gets 429 and never shows others a 503.
        if self._per_user[user_id] >= per_user:
            raise too_many("uploads", per_user, "MAX_CONCURRENT_UPLOADS_PER_USER")
        if self.total >= total:
            raise busy("uploads", total, "MAX_CONCURRENT_UPLOADS")
        self._per_user[user_id] += 1
        self.total += 1

    def release(self, user_id: str) -> None:
        self._per_user[user_id] -= 1
        if self._per_user[user_id] <= 0:
            del self._per_user[user_id]
        self.total -= 1

    def of(self, user_id: str) -> int:
        return self._per_user[user_id]
