"""Leases in a real Redis: one holder at a time, handed over when the holder stops renewing."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator

import pytest

from app.cluster.connection import async_client
from app.cluster.lease import Lease, run_exclusively, run_with_lease
from tests.cluster.helpers import RedisServer, free_port


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    server = RedisServer(free_port())
    server.start()
    yield server.url
    server.stop()


def test_one_holder_at_a_time_and_hand_over_after_the_ttl(redis_url: str) -> None:
    async def scenario() -> None:
        client = async_client(redis_url)
        try:
            a = Lease(client, "t1", ttl_s=0.5, owner="node-a")
            b = Lease(client, "t1", ttl_s=0.5, owner="node-b")
            assert await a.hold() and not await b.hold()
            assert await a.hold()  # renewing its own lease
            assert await a.holder() == "node-a"
            await asyncio.sleep(0.7)  # node-a stopped renewing (died): the lease expires
            assert await b.hold() and not await a.hold()
            await a.release()  # a stale holder cannot release someone else's lease
            assert await b.holder() == "node-b"
            await b.release()
            assert await b.holder() is None
        finally:
            await client.aclose()

    asyncio.run(scenario())


def test_run_with_lease_runs_the_duty_on_one_node_and_moves_it_when_that_node_stops(redis_url: str) -> None:
    async def scenario() -> None:
        client = async_client(redis_url)
        runs: list[str] = []

        def duty(name: str) -> Callable[[], Awaitable[None]]:
            async def work() -> None:
                runs.append(name)

            return work

        try:
            first = asyncio.create_task(run_with_lease(client, "t2", duty("a"), every_s=0.1, ttl_s=1))
            await asyncio.sleep(0.05)
            second = asyncio.create_task(run_with_lease(client, "t2", duty("b"), every_s=0.1, ttl_s=1))
            await asyncio.sleep(0.6)
            assert runs and set(runs) == {"a"}
            first.cancel()  # node a stops: it releases the lease on the way out
            await asyncio.gather(first, return_exceptions=True)
            runs.clear()
            await asyncio.sleep(0.5)
            assert runs and set(runs) == {"b"}
            second.cancel()
            await asyncio.gather(second, return_exceptions=True)
        finally:
            await client.aclose()

    asyncio.run(scenario())


def test_run_exclusively_keeps_one_long_running_loop_in_the_cluster(redis_url: str) -> None:
    async def scenario() -> None:
        client = async_client(redis_url)
        ticks: list[str] = []

        def loop_of(name: str) -> Callable[[], Awaitable[None]]:
            async def forever() -> None:
                while True:
                    ticks.append(name)
                    await asyncio.sleep(0.05)

            return forever

        try:
            first = asyncio.create_task(run_exclusively(client, "t3", loop_of("a"), ttl_s=0.6))
            await asyncio.sleep(0.1)
            second = asyncio.create_task(run_exclusively(client, "t3", loop_of("b"), ttl_s=0.6))
            await asyncio.sleep(0.8)
            assert ticks and set(ticks) == {"a"}
            first.cancel()  # node a goes away: its loop stops, node b's starts
            await asyncio.gather(first, return_exceptions=True)
            ticks.clear()
            await asyncio.sleep(0.8)
            assert ticks and set(ticks) == {"b"}
            second.cancel()
            await asyncio.gather(second, return_exceptions=True)
        finally:
            await client.aclose()

    asyncio.run(scenario())
