"""Idempotency-Key for every POST: a retried request answers the first response instead of running again.

Pure ASGI, so it sees multipart uploads and streamed answers (batch ZIPs) without buffering them: the
request body is hashed while it passes through to the route, and the response is copied (up to
MAX_STORED_BODY) while it passes back. Keys are scoped to the credential's user and kept 24 h.

- same key, same request, first one finished: the stored response again (Idempotent-Replayed: true);
- same key, different request (method, path, content type, body): 422;
- same key while the first request is still running: 409;
- same request, but its answer was not kept (over MAX_STORED_BODY, or marked Cache-Control: no-store
  like a new API key's secret): 409 IDEMPOTENT_RESPONSE_NOT_STORED with the first status and X-Job-Id.

Only outcomes that mean "this ran" are kept (2xx, and 422 for a job that failed): a request refused early
(400, 401, 413, ...) or one that crashed created nothing, so its key is released and a retry runs afresh.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from fastapi.concurrency import run_in_threadpool
from python_multipart.multipart import parse_options_header
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.idempotency import store

HEADER = b"idempotency-key"
KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,255}$")
MAX_STORED_BODY = 1024 * 1024
# Per-request headers that must not be replayed as they were (the outer middleware adds fresh ones).
NOT_REPLAYED = {b"set-cookie", b"date", b"server", b"x-ratelimit-limit", b"x-ratelimit-remaining", b"x-ratelimit-reset"}


def _is_stored_outcome(status: int) -> bool:
    return 200 <= status < 300 or status == 422


class BodyHasher:
    """SHA-256 of a request body as it streams, with a multipart boundary replaced by a fixed token.

    Clients pick a random boundary for each multipart request, so a byte-exact retry of "the same upload"
    differs in the boundary only; without this every multipart retry would look like a different request.
    """

    def __init__(self, boundary: bytes | None) -> None:
        self.digest = hashlib.sha256()
        self.boundary = boundary or None
        self.tail = b""

    def update(self, chunk: bytes) -> None:
        if self.boundary is None:
            self.digest.update(chunk)
            return
        data = (self.tail + chunk).replace(self.boundary, b"\x00B\x00")
        # Keep back what could be the start of a boundary split across two chunks.
        keep = len(self.boundary) - 1
        self.digest.update(data[:-keep] if keep else data)
        self.tail = data[-keep:] if keep else b""

    def hexdigest(self) -> str:
        self.digest.update(self.tail)
        self.tail = b""
        return self.digest.hexdigest()


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return None


def _json_error(status: int, error: str, code: str, details: Any = None) -> list[Message]:
    body: dict[str, Any] = {"error": error, "code": code}
    if details is not None:
        body["details"] = details
    raw = json.dumps(body).encode()
    return [
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(raw)).encode())],
        },
        {"type": "http.response.body", "body": raw},
    ]


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        key = _header(scope, HEADER)
        if key is None:
            await self.app(scope, receive, send)
            return
        if not KEY_PATTERN.match(key):
            await self._send(
                send,
                _json_error(
                    400, "Invalid Idempotency-Key (1-255 printable ASCII characters)", "INVALID_IDEMPOTENCY_KEY"
                ),
            )
            return
        user_id = await run_in_threadpool(store.user_for, _header(scope, b"authorization"), _header(scope, b"cookie"))
        if user_id is None:  # not signed in: the route answers 401 as usual
            await self.app(scope, receive, send)
            return

        content_type = _header(scope, b"content-type") or ""
        media_type, params = parse_options_header(content_type)
        hasher = BodyHasher(params.get(b"boundary") if media_type.startswith(b"multipart/") else None)
        path = scope["path"] + ("?" + scope["query_string"].decode("latin-1") if scope.get("query_string") else "")
        prefix = f"POST {path}\n{media_type.decode('latin-1')}\n"

        record_id, stored = await run_in_threadpool(store.claim, user_id, key, "POST", path)
        if stored is not None:
            await self._answer_repeat(stored, prefix, hasher, receive, send)
            return
        assert record_id is not None
        await self._run_first(scope, receive, send, record_id, prefix, hasher)

    async def _send(self, send: Send, messages: list[Message]) -> None:
        for message in messages:
            await send(message)

    async def _answer_repeat(
        self, stored: store.Stored, prefix: str, hasher: BodyHasher, receive: Receive, send: Send
    ) -> None:
        if stored.status == "processing":
            await self._send(
                send,
                _json_error(409, "A request with this Idempotency-Key is still running", "IDEMPOTENCY_IN_PROGRESS"),
            )
            return
        # Read (and hash) the whole body: only then do we know whether this is the same request.
        if not await _drain(receive, hasher):
            return
        if _fingerprint(prefix, hasher) != stored.fingerprint:
            await self._send(
                send,
                _json_error(
                    422,
                    "This Idempotency-Key was used for a different request",
                    "IDEMPOTENCY_KEY_REUSED",
                ),
            )
            return
        headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in stored.response_headers or []]
        if not stored.body_stored:
            # Not kept (a big ZIP or file, or a secret): say what the first answer was instead of running again.
            kept = {k.decode(): v.decode() for k, v in headers if k in (b"x-job-id", b"content-type")}
            await self._send(
                send,
                _json_error(
                    409,
                    "This request already ran; its response was too large (or too secret) to store for replay",
                    "IDEMPOTENT_RESPONSE_NOT_STORED",
                    {"status": stored.response_status, **kept},
                ),
            )
            return
        headers.append((b"idempotent-replayed", b"true"))
        await send({"type": "http.response.start", "status": stored.response_status or 200, "headers": headers})
        await send({"type": "http.response.body", "body": stored.response_body or b""})

    async def _run_first(
        self, scope: Scope, receive: Receive, send: Send, record_id: int, prefix: str, hasher: BodyHasher
    ) -> None:
        body_done = False
        status = 0
        headers: list[list[str]] = []
        captured = bytearray()
        too_big = False
        finished = False
        recorded = False

        async def record() -> None:
            nonlocal recorded
            recorded = True
            await run_in_threadpool(
                store.finish,
                record_id,
                _fingerprint(prefix, hasher),
                status,
                headers,
                None if too_big else bytes(captured),
                not too_big,
            )

        async def hashing_receive() -> Message:
            nonlocal body_done
            message = await receive()
            if message["type"] == "http.request" and not body_done:
                hasher.update(message.get("body", b""))
                body_done = not message.get("more_body", False)
            return message

        async def capturing_send(message: Message) -> None:
            nonlocal status, too_big, finished
            if message["type"] == "http.response.start":
                status = message["status"]
                # no-store (a new API key's secret): the answer is not kept, a replay says it already ran.
                too_big = any(
                    k.lower() == b"cache-control" and b"no-store" in v.lower() for k, v in message.get("headers", [])
                )
                headers.extend(
                    [k.decode("latin-1"), v.decode("latin-1")]
                    for k, v in message.get("headers", [])
                    if k.lower() not in NOT_REPLAYED
                )
            elif message["type"] == "http.response.body":
                chunk = message.get("body", b"")
                if not too_big:
                    if len(captured) + len(chunk) > MAX_STORED_BODY:
                        too_big = True
                        captured.clear()
                    else:
                        captured.extend(chunk)
                finished = not message.get("more_body", False)
                if finished and body_done and _is_stored_outcome(status):
                    # Recorded before the last byte leaves: a client repeating the request the moment
                    # it has the answer must get the replay, not 409 IDEMPOTENCY_IN_PROGRESS.
                    await record()
            await send(message)

        try:
            await self.app(scope, hashing_receive, capturing_send)
        except BaseException:
            if not recorded:
                await run_in_threadpool(store.release, record_id)
            raise
        if recorded:
            return
        if finished and _is_stored_outcome(status) and not body_done:
            # The route ran without reading the body (it takes none): hash what is left for the fingerprint.
            body_done = await _drain(receive, hasher)
        if finished and body_done and _is_stored_outcome(status):
            await record()
        else:
            await run_in_threadpool(store.release, record_id)


async def _drain(receive: Receive, hasher: BodyHasher) -> bool:
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return False
        hasher.update(message.get("body", b""))
        if not message.get("more_body", False):
            return True


def _fingerprint(prefix: str, hasher: BodyHasher) -> str:
    return hashlib.sha256(prefix.encode() + hasher.hexdigest().encode()).hexdigest()
