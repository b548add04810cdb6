"""Fixtures shared by the scaled-mode tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.cluster.helpers import RedisServer, free_port


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    """A redis-server of the test module's own, on a free port."""
    server = RedisServer(free_port())
    server.start()
    yield server
    server.stop()
