"""Whether the database answers, for /api/v1/health, without making the health check wait.

A health check that asks the database itself needs a worker thread and two more turns of the event
loop; under a burst of requests each turn waits behind them, and orchestrators give up after a few
seconds. So a background loop asks every half second (on its own two connections, db.probe_engine)
and health reads the last answer. An answer older than FRESH_S, or about another engine than the
current one (a restart of the engine, a test switching databases), is not used: health then asks at
once, and concurrent health checks share that one question.
"""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import text

from app import db

# A database that stops answering (network partition, stuck server) must read as unhealthy, not hang
# the probe: orchestrators give up on a health check after a few seconds.
CHECK_TIMEOUT_S = 2.0
REFRESH_S = 0.5
FRESH_S = 2.0
# Its own threads: under load the shared thread pool is busy, and a check queued behind it would time out.
_threads = ThreadPoolExecutor(max_workers=2, thread_name_prefix="lutra-health")


def _engine_key() -> int | None:
    return db.engine_generation()  # None: no engine (shut down, or never started), so unreachable


def _ask() -> bool:
    try:
        with db.probe_engine().connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except Exception:
        return False


class DatabaseProbe:
    def __init__(self) -> None:
        self._last: tuple[int | None, float, bool] | None = None  # (engine, when, answer)
        self._asking: tuple[int | None, asyncio.Task[bool]] | None = None  # (engine, the question)

    async def ok(self) -> bool:
        """The last answer when it is fresh and about the current engine, else a new one."""
        key = _engine_key()
        last = self._last
        if last is not None and last[0] == key and time.monotonic() - last[1] < FRESH_S:
            return last[2]
        return await self.ask()

    async def ask(self) -> bool:
        """A new answer; callers arriving meanwhile share it (when it is about the same engine). A task of
        its own, so that a caller that goes away (a health check whose client hung up) never cancels the
        others' answer."""
        loop = asyncio.get_running_loop()
        key = _engine_key()
        asking = self._asking
        if asking is None or asking[0] != key or asking[1].done() or asking[1].get_loop() is not loop:
            asking = self._asking = (key, loop.create_task(self._ask_now(key)))
        return await asyncio.shield(asking[1])

    async def _ask_now(self, key: int | None) -> bool:
        try:
            loop = asyncio.get_running_loop()
            answer = key is not None and await asyncio.wait_for(
                loop.run_in_executor(_threads, _ask), timeout=CHECK_TIMEOUT_S
            )
        except TimeoutError:
            answer = False
        self._last = (key, time.monotonic(), answer)
        return answer

    async def refresh_forever(self) -> None:
        while True:
            await self.ask()
            await asyncio.sleep(REFRESH_S)


probe = DatabaseProbe()
