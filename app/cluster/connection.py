"""Redis connections for the scaled mode, the fail-fast start-up check and the 503 for a lost Redis."""

from __future__ import annotations

import redis
import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from app.errors import LutraError

# Short socket timeouts: a lost Redis must turn into a clear 503 within seconds, never a hang.
_TIMEOUTS = {"socket_connect_timeout": 3.0, "socket_timeout": 5.0, "health_check_interval": 15}
UNAVAILABLE = (RedisError, OSError)


def shown_url(url: str) -> str:
    """The URL with any password hidden, for messages and logs."""
    scheme, sep, rest = url.partition("://")
    if "@" in rest:
        creds, _, host = rest.rpartition("@")
        user = creds.split(":", 1)[0]
        rest = f"{user}:***@{host}" if ":" in creds else f"{user}@{host}"
    return scheme + sep + rest


def sync_client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, decode_responses=True, **_TIMEOUTS)


def async_client(url: str) -> aioredis.Redis:
    return aioredis.Redis.from_url(url, decode_responses=True, **_TIMEOUTS)


def unreachable_message(url: str, exc: BaseException) -> str:
    reason = str(exc).strip() or type(exc).__name__
    return f"Lutra cannot reach Redis at REDIS_URL={shown_url(url)} ({reason})"


def check_reachable(url: str) -> str | None:
    """None when Redis answers PING, else the one line to print before exiting."""
    try:
        client = sync_client(url)
        try:
            client.ping()
        finally:
            client.close()
    except (RedisConnectionError, RedisTimeoutError, RedisError, OSError, ValueError) as exc:
        return unreachable_message(url, exc)
    return None


class QueueUnavailable(LutraError):
    status, code = 503, "QUEUE_UNAVAILABLE"

    def __init__(self, message: str = "The job queue (Redis) is unreachable; try again shortly") -> None:
        super().__init__(message, headers={"Retry-After": "5"})
