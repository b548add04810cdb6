"""Session tokens and API keys: generation, hashing, and a short cache of verified keys."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time

API_KEY_PREFIX = "si_"
API_KEY_HEX_LEN = 96
LOOKUP_PREFIX_LEN = 12  # hex characters after "si_" kept in clear to find the row

# scrypt cost: ~30 ms per check; this is why verified keys are cached.
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1


def new_session_token() -> str:
    return secrets.token_urlsafe(32)  # 256 bits


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_api_key() -> str:
    return API_KEY_PREFIX + secrets.token_hex(API_KEY_HEX_LEN // 2)


def looks_like_api_key(value: str) -> bool:
    if not value.startswith(API_KEY_PREFIX) or len(value) != len(API_KEY_PREFIX) + API_KEY_HEX_LEN:
        return False
    return all(c in "0123456789abcdef" for c in value[len(API_KEY_PREFIX) :])


def key_lookup_prefix(key: str) -> str:
    return key[len(API_KEY_PREFIX) : len(API_KEY_PREFIX) + LOOKUP_PREFIX_LEN]


def hash_api_key(key: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(key.encode(), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P, dklen=32)
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${salt.hex()}${digest.hex()}"


def verify_api_key(key: str, stored: str) -> bool:
    try:
        _, n, r, p, salt, digest = stored.split("$")
        got = hashlib.scrypt(
            key.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p), dklen=len(digest) // 2
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got.hex(), digest)


class VerifiedKeyCache:
    """Remembers, for a short while, that a raw key matched a key row, so requests skip scrypt.

    It caches only the proof of knowledge (SHA-256 of the raw key -> key id); the key row is still
    read on every request, so a deleted or expired key stops working at once in every process.
    """

    def __init__(self, ttl_s: float = 300.0, max_entries: int = 10_000) -> None:
        self._ttl = ttl_s
        self._max = max_entries
        self._entries: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def get(self, raw_key: str) -> str | None:
        fp = hash_token(raw_key)
        with self._lock:
            hit = self._entries.get(fp)
            if hit is None:
                return None
            key_id, expires = hit
            if expires < time.monotonic():
                del self._entries[fp]
                return None
            return key_id

    def put(self, raw_key: str, key_id: str) -> None:
        with self._lock:
            if len(self._entries) >= self._max:
                self._entries.clear()
            self._entries[hash_token(raw_key)] = (key_id, time.monotonic() + self._ttl)

    def drop_keys(self, key_ids: set[str]) -> None:
        with self._lock:
            for fp in [fp for fp, (kid, _) in self._entries.items() if kid in key_ids]:
                del self._entries[fp]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


verified_keys = VerifiedKeyCache()
