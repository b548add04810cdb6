"""Counts of uploads streaming right now, per user and in total (one process, touched only on the event loop)."""

from __future__ import annotations

from collections import Counter

from app.errors import LutraError, ServerBusy, TooManyRequests

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
    """A slot per streaming upload; taking one over a limit raises 429 (the user's) or 503 (the total).

    Requests on their way to a slot are counted too (`entering`, by app.admission.early): a burst's
    requests all pass the door before the first of them reaches its slot, so the door counts them."""

    def __init__(self) -> None:
        self._per_user: Counter[str] = Counter()
        self.total = 0
        self._entering: Counter[str] = Counter()
        self._entering_total = 0

    def refusal(self, user_id: str, per_user: int, total: int, *, at_the_door: bool = False) -> LutraError | None:
        """What taking a slot now would raise, or None. At the door, requests already let in count too."""
        mine, everyone = self._per_user[user_id], self.total
        if at_the_door:
            mine, everyone = max(mine, self._entering[user_id]), max(everyone, self._entering_total)
        # The user's own limit first: one greedy client gets 429 and never shows others a 503.
        if mine >= per_user:
            return too_many("uploads", per_user, "MAX_CONCURRENT_UPLOADS_PER_USER")
        if everyone >= total:
            return busy("uploads", total, "MAX_CONCURRENT_UPLOADS")
        return None

    def enter(self, user_id: str) -> None:
        self._entering_total += _count(self._entering, user_id, 1)

    def leave(self, user_id: str) -> None:
        self._entering_total += _count(self._entering, user_id, -1)

    def acquire(self, user_id: str, per_user: int, total: int) -> None:
        refusal = self.refusal(user_id, per_user, total)
        if refusal is not None:
            raise refusal
        self.total += _count(self._per_user, user_id, 1)

    def release(self, user_id: str) -> None:
        self.total += _count(self._per_user, user_id, -1)

    def of(self, user_id: str) -> int:
        return self._per_user[user_id]


def _count(counter: Counter[str], user_id: str, step: int) -> int:
    """Adds `step` to the user's count (dropping it at zero, so the counter stays small); returns step."""
    counter[user_id] += step
    if counter[user_id] <= 0:
        del counter[user_id]
    return step
