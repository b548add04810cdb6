"""The login throttle and the API rate limiter in Redis, so N API nodes enforce one limit together.

Same methods as app.auth.throttle's in-process classes; plugged in by the API node at start. A lost
Redis answers 503 QUEUE_UNAVAILABLE rather than letting requests through unlimited.
"""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Sequence

import redis

from app.cluster import keys
from app.cluster.connection import UNAVAILABLE, QueueUnavailable

# Atomic check-and-record over several keys (sorted sets of attempt times), each with its own limit
# (ARGV[4...]): returns 0 when recorded, else the seconds until the oldest attempt in a full window expires.
_ATTEMPT = """
local now, window = tonumber(ARGV[1]), tonumber(ARGV[2])
local wait = 0
for i, key in ipairs(KEYS) do
  local limit = tonumber(ARGV[3 + i])
  redis.call('zremrangebyscore', key, '-inf', now - window)
  if redis.call('zcard', key) >= limit then
    local oldest = tonumber(redis.call('zrange', key, 0, 0, 'WITHSCORES')[2])
    wait = math.max(wait, math.max(1, math.ceil(oldest + window - now)))
  end
end
if wait > 0 then return wait end
for _, key in ipairs(KEYS) do
  redis.call('zadd', key, now, ARGV[3])
  redis.call('expire', key, math.ceil(window) + 1)
end
return 0
"""


class RedisSlidingWindow:
    def __init__(self, client: redis.Redis, name: str, window_s: float) -> None:
        self.client = client
        self.prefix = f"{keys.PREFIX}throttle:{name}:"
        self.window_s = window_s
        self._attempt = client.register_script(_ATTEMPT)

    def attempt(self, names: Sequence[str], limit: int | Sequence[int]) -> int:
        limits = [limit] * len(names) if isinstance(limit, int) else list(limit)
        try:
            member = f"{time.time()}:{uuid.uuid4().hex[:8]}"
            found = self._attempt(
                keys=[self.prefix + n for n in names], args=[time.time(), self.window_s, member, *limits]
            )
        except UNAVAILABLE as exc:
            raise QueueUnavailable("The shared login throttle (Redis) is unreachable; try again shortly") from exc
        return int(found)

    def forget_one(self, name: str) -> None:
        try:
            self.client.zpopmax(self.prefix + name)
        except UNAVAILABLE as exc:
            raise QueueUnavailable() from exc

    def reset(self, name: str) -> None:
        try:
            self.client.delete(self.prefix + name)
        except UNAVAILABLE as exc:
            raise QueueUnavailable() from exc


class RedisFixedWindow:
    def __init__(self, client: redis.Redis) -> None:
        self.client = client
        self.prefix = f"{keys.PREFIX}ratelimit:"

    def hit(self, key: str, limit: int) -> tuple[bool, int, int, int]:
        now = time.time()
        window = int(now // 60)
        reset = (window + 1) * 60
        retry_after = max(1, math.ceil(reset - now))
        name = f"{self.prefix}{key}:{window}"
        try:
            with self.client.pipeline(transaction=True) as pipe:
                pipe.incr(name)
                pipe.expire(name, 120)
                used = int(pipe.execute()[0])
        except UNAVAILABLE as exc:
            raise QueueUnavailable("The shared rate limiter (Redis) is unreachable; try again shortly") from exc
        if used > limit:
            return False, 0, reset, retry_after
        return True, limit - used, reset, retry_after


def share_limits(redis_url: str) -> None:
    """Points the process's throttle and rate limiter at Redis."""
    from app.auth.throttle import api_limiter, login_failures
    from app.cluster.connection import sync_client

    client = sync_client(redis_url)
    login_failures.shared = RedisSlidingWindow(client, "login", login_failures.window_s)
    api_limiter.shared = RedisFixedWindow(client)


def unshare_limits() -> None:
    from app.auth.throttle import api_limiter, login_failures

    login_failures.shared = None
    api_limiter.shared = None
