"""An API node of the scaled mode: its Redis hub, the Celery executor, and the single-node duties."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from app import __version__
from app.auth import principal_cache
from app.cluster import keys
from app.cluster.bus import RedisEventBus, RedisHub
from app.cluster.connection import UNAVAILABLE, async_client, check_reachable, sync_client
from app.cluster.executor import CeleryExecutor
from app.cluster.lease import run_exclusively, run_with_lease
from app.cluster.limits import share_limits, unshare_limits
from app.cluster.queue import make_celery
from app.cluster.reaper import reap_once
from app.config import Settings

log = logging.getLogger("lutra.cluster")


def invalidation_sender(url: str) -> Callable[[principal_cache.Invalidation], None]:
    """Publishes a committed credential change to every API node (called from the committing thread,
    so the change has reached Redis before the answer that made it leaves)."""
    client = sync_client(url)

    def send(change: principal_cache.Invalidation) -> None:
        try:
            client.publish(keys.AUTH_INVALIDATE, json.dumps(change.to_json()))
        except UNAVAILABLE as exc:
            # The other nodes drop everything when they reconnect; until then the short life bounds it.
            log.warning("could not publish a credential invalidation: %s", exc)

    return send


@dataclass
class ApiNode:
    hub: RedisHub
    executor: CeleryExecutor
    duties: list[asyncio.Task[None]] = field(default_factory=list)

    @property
    def bus(self) -> RedisEventBus:
        return self.hub.bus

    def add_duty(self, name: str, work: Callable[[], Awaitable[object]], every_s: float) -> None:
        """Runs `work` periodically on one node of the cluster at a time."""
        task = asyncio.get_running_loop().create_task(run_with_lease(self.hub.client, name, work, every_s=every_s))
        self.duties.append(task)

    def add_exclusive(self, name: str, run: Callable[[], Awaitable[object]]) -> asyncio.Task[None]:
        """Runs the long-running `run()` on one node of the cluster at a time (moves when that node dies)."""
        task = asyncio.get_running_loop().create_task(run_exclusively(self.hub.client, name, run))
        self.duties.append(task)
        return task

    async def close(self) -> None:
        principal_cache.set_broadcaster(None)
        for task in self.duties:
            task.cancel()
        await asyncio.gather(*self.duties, return_exceptions=True)
        await self.executor.close()
        await self.hub.close()
        unshare_limits()


async def start_api_node(settings: Settings) -> ApiNode:
    problem = await asyncio.to_thread(check_reachable, settings.redis_url)
    if problem:
        raise RuntimeError(problem)
    node_id = uuid.uuid4().hex[:12]
    hub = RedisHub(async_client(settings.redis_url), keys.NODE + node_id)
    hub.start()
    executor = CeleryExecutor(settings, hub, make_celery(settings.redis_url), node_id)
    executor.start()
    node = ApiNode(hub, executor)
    share_limits(settings.redis_url)
    principal_cache.set_broadcaster(invalidation_sender(settings.redis_url))
    # Workers compare their version with this at start (they refuse to join another version).
    await hub.client.set(keys.VERSION, __version__)
    await asyncio.wait_for(hub.connected.wait(), timeout=10)
    timeout = settings.job_heartbeat_timeout_s
    node.add_duty("reaper", lambda: reap_once(hub.client, hub.bus, timeout), every_s=max(1.0, timeout / 4))
    return node
