"""File answers prepared in one thread hop: the stat, and for small files the bytes themselves.

Starlette's FileResponse costs four thread hops per download (stat, open, read, close) and, under
uvicorn's ASGI 2.3, a task group that watches for the client leaving. For the common small result (a
resized photo, a page of text) that was more of the server's CPU than the download itself. Here the
caller stats and, when the file is small, reads it in the same thread hop as its other checks;
`ReadyFileResponse` keeps FileResponse's headers and its Range, If-Range and HEAD handling and only
skips what was already done.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from stat import S_ISREG

from starlette.responses import FileResponse
from starlette.types import Receive, Scope, Send

# Read whole in the thread hop below this size; larger files stream from disk in chunks as before.
READ_WHOLE_BYTES = 1024 * 1024


@dataclass(frozen=True)
class ReadyFile:
    path: Path
    stat: os.stat_result
    body: bytes | None  # the whole file when it is small, else None (streamed)


def ready_file(path: Path, *, read_whole_bytes: int = READ_WHOLE_BYTES) -> ReadyFile | None:
    """Stats `path` and reads it when small (blocking: call it in a thread). None: not a regular file."""
    try:
        stat = path.stat()
        if not S_ISREG(stat.st_mode):
            return None  # never open a directory, a FIFO or a device
        body = path.read_bytes() if stat.st_size <= read_whole_bytes else None
    except (FileNotFoundError, NotADirectoryError):
        return None
    if body is not None and len(body) != stat.st_size:  # changed under us: let the streaming path read it
        body = None
    return ReadyFile(path, stat, body)


class ReadyFileResponse(FileResponse):
    """FileResponse for a ReadyFile: no stat hop, and a small file's bytes sent in one message."""

    def __init__(self, ready: ReadyFile, *, media_type: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(ready.path, media_type=media_type, headers=headers, stat_result=ready.stat)
        self._body = ready.body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        ranged = any(name == b"range" for name, _ in scope.get("headers", ()))
        if self._body is None or scope.get("type") != "http" or ranged:
            await super().__call__(scope, receive, send)  # ranges and large files: FileResponse as it is
            return
        head_only = scope["method"].upper() == "HEAD"
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        await send({"type": "http.response.body", "body": b"" if head_only else self._body, "more_body": False})
