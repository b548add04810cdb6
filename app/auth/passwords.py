"""Password hashing: argon2id through pwdlib, at OWASP's minimum parameters (m=19 MiB, t=2, p=1)."""

from __future__ import annotations

from functools import cache
from typing import Any


@cache
def _hasher() -> Any:
    # Built on first use, not at import: start-up neither loads argon2 nor spends a hash on the dummy.
    from pwdlib import PasswordHash
    from pwdlib.hashers.argon2 import Argon2Hasher

    return PasswordHash((Argon2Hasher(time_cost=2, memory_cost=19 * 1024, parallelism=1),))


@cache
def _dummy_hash() -> str:
    """Verified against when a username does not exist, so unknown users cost the same time as wrong passwords."""
    return str(_hasher().hash("lutra-timing-equaliser"))


MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 256


def hash_password(password: str) -> str:
    return str(_hasher().hash(password))


def verify_password(password: str, password_hash: str | None) -> bool:
    if password_hash is None:
        _hasher().verify(password, _dummy_hash())
        return False
    try:
        return bool(_hasher().verify(password, password_hash))
    except Exception:
        # A corrupt stored hash must read as "wrong password", not a 500.
        return False
