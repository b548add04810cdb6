"""The Redis side of the event seam: progress events on pub/sub, seen by every API node.

One connection per API node listens to every job's event channel (a pattern subscription) and to
the node's own reply channel (where workers answer the jobs this node submitted). Subscribing an SSE
stream is then purely local and synchronous, so no event can slip between "subscribe" and "listen".
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable
from typing import Any

import redis.asyncio as aioredis

from app.auth import principal_cache
from app.cluster import keys
from app.cluster.connection import UNAVAILABLE
from app.jobs.events import TERMINAL, EventBus

log = logging.getLogger("lutra.cluster")
ReplyHandler = Callable[[dict[str, Any]], None]


class RedisHub:
    """The node's Redis connection: one pub/sub listener and one ordered publisher, both reconnecting."""

    def __init__(self, client: aioredis.Redis, node_channel: str) -> None:
        self.client = client
        self.node_channel = node_channel
        self.bus = RedisEventBus(self)
        self.on_reply: ReplyHandler | None = None
        self._outbox: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self._last_warning = 0.0
        self.connected = asyncio.Event()

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._listen()), loop.create_task(self._publish_loop())]

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.client.aclose()

    def warn(self, what: str, exc: BaseException) -> None:
        # Once per 10 s at most: a Redis outage must not flood the log with one line per event.
        now = time.monotonic()
        if now - self._last_warning > 10:
            self._last_warning = now
            log.warning("Redis unavailable (%s): %s", what, exc)

    async def _listen(self) -> None:
        while True:
            pubsub = self.client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.psubscribe(keys.EVENTS_PATTERN)
                await pubsub.subscribe(self.node_channel, keys.AUTH_INVALIDATE)
                # Invalidations sent while this node was not listening are lost: start afresh.
                principal_cache.drop_local(principal_cache.Invalidation(everything=True))
                self.connected.set()
                while True:
                    message = await pubsub.get_message(timeout=5.0)
                    if message is not None:
                        self._dispatch(message)
            except asyncio.CancelledError:
                raise
            except UNAVAILABLE as exc:
                self.connected.clear()
                self.warn("listening", exc)
                await asyncio.sleep(1.0)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()

    def _dispatch(self, message: dict[str, Any]) -> None:
        try:
            data = json.loads(message["data"])
        except (TypeError, ValueError):
            return
        channel: str = message.get("channel") or ""
        if channel.startswith(keys.EVENTS):
            self.bus.deliver(channel[len(keys.EVENTS) :], data)
        elif channel == self.node_channel and self.on_reply is not None:
            self.on_reply(data)
        elif channel == keys.AUTH_INVALIDATE:
            principal_cache.drop_local(principal_cache.Invalidation.from_json(data))

    def enqueue(self, job_id: str, event: dict[str, Any]) -> None:
        self._outbox.put_nowait((job_id, event))

    async def _publish_loop(self) -> None:
        # One task drains the outbox, so a job's events reach Redis in the order they were published.
        while True:
            job_id, event = await self._outbox.get()
            text = json.dumps(event, separators=(",", ":"))
            try:
                async with self.client.pipeline(transaction=False) as pipe:
                    if event.get("status") in TERMINAL:
                        pipe.delete(keys.LATEST + job_id)
                    else:
                        pipe.set(keys.LATEST + job_id, text, ex=keys.LATEST_TTL_S)
                    pipe.publish(keys.EVENTS + job_id, text)
                    await pipe.execute()
            except UNAVAILABLE as exc:
                # Progress is best effort; a finished job's state is in the database anyway.
                self.warn("publishing an event", exc)


class RedisEventBus(EventBus):
    """EventBus over Redis: publish goes to every node; latest is read from Redis."""

    def __init__(self, hub: RedisHub) -> None:
        super().__init__()
        self._hub = hub

    def publish(self, job_id: str, event: dict[str, Any]) -> None:
        self._hub.enqueue(job_id, event)

    async def latest(self, job_id: str) -> dict[str, Any] | None:
        try:
            text = await self._hub.client.get(keys.LATEST + job_id)
        except UNAVAILABLE as exc:
            self._hub.warn("reading an event", exc)
            return None
        return json.loads(text) if text else None
