"""The C heap of Lutra's processes: few malloc arenas, and freed memory handed back to the system.

glibc gives each thread that allocates an arena of its own (up to 8 per core) and keeps what is freed
in it for later. In the server, whose thread pool parses uploads and talks to the database, that kept
~40 MB after a burst of requests; in a worker, libvips' threads did the same with decoded images.
Two arenas, and a trim now and then (the server) or once idle (a worker), keep both near their
start-up size. Other C libraries (musl) have neither call: then nothing happens.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import os
from typing import Any

ARENAS = 2
_M_ARENA_MAX = -8  # mallopt parameter (glibc malloc.h)
SERVER_TRIM_INTERVAL_S = 10.0


def _load_libc() -> Any:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.malloc_trim  # noqa: B018 - glibc only
        libc.mallopt  # noqa: B018
        return libc
    except (OSError, AttributeError):
        return None


_libc = _load_libc()


def limit_arenas() -> None:
    """Caps this process's malloc arenas (call before it starts threads); MALLOC_ARENA_MAX wins if set."""
    if _libc is not None and "MALLOC_ARENA_MAX" not in os.environ:
        _libc.mallopt(_M_ARENA_MAX, ARENAS)


def give_memory_back() -> None:
    """Returns the heap's free pages to the system."""
    if _libc is not None:
        _libc.malloc_trim(0)


async def trim_forever(interval_s: float = SERVER_TRIM_INTERVAL_S) -> None:
    """The server's periodic trim, off the event loop. Every few seconds is cheap when there is little
    to return, and a busy server reuses its pages between trims anyway."""
    while True:
        await asyncio.sleep(interval_s)
        await asyncio.to_thread(give_memory_back)
