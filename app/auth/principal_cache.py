"""A short-lived in-memory cache from a credential to its Principal, so an authenticated request
needs no database round trip.

Correctness comes from invalidation, not from the short life: every committed change to a user, an
API key, a session or a role drops the entries it could affect (app.auth.invalidation watches the
ORM), and in the scaled mode the same invalidation travels over Redis to every API node. The 30 s
life only bounds what a change made outside this process's ORM (a hand edit of the database)
could leave behind.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from app.auth import tokens
from app.auth.principal import Principal

TTL_S = 30.0
MAX_ENTRIES = 10_000


@dataclass
class Invalidation:
    """What changed: the ids whose cached principals must go (everything=True: all of them)."""

    users: set[str] = field(default_factory=set)
    keys: set[str] = field(default_factory=set)
    sessions: set[str] = field(default_factory=set)
    everything: bool = False

    def __bool__(self) -> bool:
        return self.everything or bool(self.users or self.keys or self.sessions)

    def merge(self, other: Invalidation) -> None:
        self.users |= other.users
        self.keys |= other.keys
        self.sessions |= other.sessions
        self.everything |= other.everything

    def to_json(self) -> dict[str, Any]:
        return {
            "users": sorted(self.users),
            "keys": sorted(self.keys),
            "sessions": sorted(self.sessions),
            "everything": self.everything,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Invalidation:
        return cls(
            users=set(data.get("users") or ()),
            keys=set(data.get("keys") or ()),
            sessions=set(data.get("sessions") or ()),
            everything=bool(data.get("everything")),
        )


@dataclass(frozen=True)
class _Entry:
    principal: Principal
    fresh_until: float  # monotonic
    valid_until: datetime | None  # the credential's own expiry (key expiresAt, session end)


class PrincipalCache:
    def __init__(self, ttl_s: float = TTL_S, max_entries: int = MAX_ENTRIES) -> None:
        self._ttl = ttl_s
        self._max = max_entries
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._lock = threading.Lock()
        # Bumped by every invalidation: a lookup that read the database before an invalidation must
        # not store what it read after it (it may be the old state).
        self._generation = 0

    @property
    def generation(self) -> int:
        return self._generation

    def get(self, fingerprint: str) -> Principal | None:
        with self._lock:
            entry = self._entries.get(fingerprint)
            if entry is None:
                return None
            if entry.fresh_until < time.monotonic() or (
                entry.valid_until is not None and entry.valid_until <= datetime.now(UTC)
            ):
                del self._entries[fingerprint]
                return None
            return entry.principal

    def put(self, fingerprint: str, principal: Principal, valid_until: datetime | None, generation: int) -> None:
        with self._lock:
            if generation != self._generation:
                return
            self._entries[fingerprint] = _Entry(principal, time.monotonic() + self._ttl, valid_until)
            self._entries.move_to_end(fingerprint)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)

    def apply(self, change: Invalidation) -> None:
        with self._lock:
            self._generation += 1
            if change.everything:
                self._entries.clear()
                return
            gone = [
                fp
                for fp, e in self._entries.items()
                if e.principal.user_id in change.users
                or (e.principal.api_key_id is not None and e.principal.api_key_id in change.keys)
                or (e.principal.session_id is not None and e.principal.session_id in change.sessions)
            ]
            for fp in gone:
                del self._entries[fp]

    def clear(self) -> None:
        self.apply(Invalidation(everything=True))

    def __len__(self) -> int:
        return len(self._entries)


principals = PrincipalCache()

# The scaled mode sets this to a function that publishes an invalidation to every API node.
_broadcasters: list[Callable[[Invalidation], None]] = []


def set_broadcaster(send: Callable[[Invalidation], None] | None) -> None:
    _broadcasters.clear()
    if send is not None:
        _broadcasters.append(send)


def drop_local(change: Invalidation) -> None:
    """Drops the affected entries of this process (and the matching proofs of verified keys)."""
    if change.everything:
        tokens.verified_keys.clear()
    elif change.keys:
        tokens.verified_keys.drop_keys(change.keys)
    principals.apply(change)


def invalidate(change: Invalidation) -> None:
    """Drops the affected entries here and, in the scaled mode, on every other API node."""
    if not change:
        return
    drop_local(change)
    for send in list(_broadcasters):
        send(change)


def invalidate_users(user_ids: Iterable[str]) -> None:
    invalidate(Invalidation(users=set(user_ids)))
