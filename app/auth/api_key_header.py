"""`X-API-Key: si_...` (Stirling-PDF's and many scripts' habit) accepted like `Authorization: Bearer si_...`."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send


class ApiKeyHeaderMiddleware:
    """Gives a request that carries X-API-Key and no Authorization the equivalent Bearer header, before
    anything reads credentials (authentication, idempotency, rate limits), so all treat both alike."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = scope["headers"]
            names = {name for name, _ in headers}
            if b"x-api-key" in names and b"authorization" not in names:
                key = next(value for name, value in headers if name == b"x-api-key").strip()
                if key:
                    scope = {**scope, "headers": [*headers, (b"authorization", b"Bearer " + key)]}
        await self.app(scope, receive, send)
