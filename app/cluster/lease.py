"""Leases in Redis: duties that must run on one node at a time (the heartbeat reaper, workspace
clean-up, webhook dispatch, folder watching) go to whichever node holds the lease, and move to
another node within `ttl_s` when the holder dies.

    lease = Lease(redis, "reaper", ttl_s=30)
    await lease.hold()      # True while this node holds it (acquires or renews)
    await lease.release()

or simply run a duty forever on the holder only:

    await run_with_lease(redis, "reaper", work, every_s=10)      # a periodic duty
    await run_exclusively(redis, "automations", loop_forever)     # a long-running loop
"""

from __future__ import annotations

import asyncio
import logging
import socket
import uuid
from collections.abc import Awaitable, Callable

import redis.asyncio as aioredis

from app.cluster import keys
from app.cluster.connection import UNAVAILABLE

log = logging.getLogger("lutra.cluster")

# Renew or release only while the value is still ours: a holder that stalled past its TTL must not
# extend or delete the lease another node took over meanwhile.
_RENEW = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end return 0"
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"


class Lease:
    def __init__(self, client: aioredis.Redis, name: str, ttl_s: float = 30.0, owner: str | None = None) -> None:
        self.client = client
        self.key = keys.LEASE + name
        self.ttl_ms = int(ttl_s * 1000)
        self.owner = owner or f"{socket.gethostname()}:{uuid.uuid4().hex[:8]}"

    async def hold(self) -> bool:
        """Acquires the lease, or renews it if this owner holds it. False when another node does."""
        if await self.client.set(self.key, self.owner, nx=True, px=self.ttl_ms):
            return True
        return bool(await self.client.eval(_RENEW, 1, self.key, self.owner, self.ttl_ms))

    async def release(self) -> None:
        await self.client.eval(_RELEASE, 1, self.key, self.owner)

    async def holder(self) -> str | None:
        return await self.client.get(self.key)


async def run_with_lease(
    client: aioredis.Redis,
    name: str,
    work: Callable[[], Awaitable[object]],
    *,
    every_s: float,
    ttl_s: float | None = None,
) -> None:
    """Runs `work` every `every_s` seconds on the one node holding lease `name` (until cancelled).

    The TTL defaults to three periods, so a live holder renews well in time and a dead one is
    replaced within that.
    """
    lease = Lease(client, name, ttl_s or max(3 * every_s, 5.0))
    try:
        while True:
            try:
                if await lease.hold():
                    await work()
            except asyncio.CancelledError:
                raise
            except UNAVAILABLE as exc:
                log.warning("lease %s: Redis unavailable: %s", name, exc)
            except Exception:
                log.exception("duty %s failed", name)
            await asyncio.sleep(every_s)
    finally:
        try:
            await asyncio.shield(lease.release())
        except (asyncio.CancelledError, *UNAVAILABLE):
            pass


async def run_exclusively(
    client: aioredis.Redis, name: str, run: Callable[[], Awaitable[object]], *, ttl_s: float = 15.0
) -> None:
    """Runs the long-running coroutine `run()` on the one node holding lease `name` (until cancelled).

    The holder renews every ttl/3; a node that cannot renew (Redis lost, or another node took over
    after a stall) stops its `run()` at once, so two nodes never run it together for long.
    """
    lease = Lease(client, name, ttl_s)
    task: asyncio.Task[object] | None = None
    try:
        while True:
            try:
                held = await lease.hold()
            except UNAVAILABLE as exc:
                log.warning("lease %s: Redis unavailable: %s", name, exc)
                held = False
            if held and task is None:
                log.info("this node now runs %s", name)
                task = asyncio.ensure_future(run())
            elif not held and task is not None:
                log.warning("lease %s lost: stopping it here", name)
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
                task = None
            if task is not None and task.done():
                if not task.cancelled() and task.exception() is not None:
                    log.error("%s stopped: %s", name, task.exception())
                task = None  # started again on the next round while the lease is ours
            await asyncio.sleep(ttl_s / 3)
    finally:
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        try:
            await asyncio.shield(lease.release())
        except (asyncio.CancelledError, *UNAVAILABLE):
            pass
