"""The worker registry in Redis: each `lutra worker` describes itself every few seconds; API nodes
read who is online (health, NO_WORKERS, GPU routing, batch fan-out width) and the queue depths."""

from __future__ import annotations

import json
import time
from typing import Any

import redis
import redis.asyncio as aioredis

from app.cluster import keys


def beat(client: redis.Redis, name: str, description: dict[str, Any]) -> None:
    """Called by a worker: refreshes its entry (and drops entries of workers long gone)."""
    now = time.time()
    with client.pipeline(transaction=False) as pipe:
        pipe.hset(keys.WORKERS, name, json.dumps({**description, "heartbeat": now}))
        pipe.zadd(keys.WORKERS_SEEN, {name: now})
        pipe.execute()
    stale = client.zrangebyscore(keys.WORKERS_SEEN, 0, now - 24 * 3600)
    if stale:
        client.hdel(keys.WORKERS, *stale)
        client.zrem(keys.WORKERS_SEEN, *stale)


def leave(client: redis.Redis, name: str) -> None:
    client.hdel(keys.WORKERS, name)
    client.zrem(keys.WORKERS_SEEN, name)


async def online(client: aioredis.Redis) -> list[dict[str, Any]]:
    names = await client.zrangebyscore(keys.WORKERS_SEEN, time.time() - keys.WORKER_ONLINE_S, "+inf")
    if not names:
        return []
    found = await client.hmget(keys.WORKERS, names)
    return [json.loads(text) for text in found if text]


async def queue_depths(client: aioredis.Redis) -> dict[str, int]:
    """Tasks waiting in each Celery queue (the broker keeps each queue as a Redis list of its name)."""
    async with client.pipeline(transaction=False) as pipe:
        for queue in keys.QUEUES:
            pipe.llen(queue)
        lengths = await pipe.execute()
    return dict(zip(keys.QUEUES, (int(n) for n in lengths), strict=True))
