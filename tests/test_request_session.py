"""A request's database work is committed before its answer leaves the server: a client that acts on
an answer at once (log in, then fetch the session with the new cookie) finds what the request wrote."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from starlette.types import Message, Receive, Scope, Send

from app.db import session_scope
from app.models import UserSession
from tests.conftest import make_client


def test_a_login_is_committed_before_its_answer_starts(app_env: Path) -> None:
    sessions_seen: list[int] = []
    with make_client() as client:
        app = client.app

        async def watching(scope: Scope, receive: Receive, send: Send) -> None:
            async def send_after_looking(message: Message) -> None:
                if message["type"] == "http.response.start" and scope["path"] == "/api/auth/login":
                    # What any other connection (the client's next request) can see at this moment.
                    with session_scope() as db:
                        sessions_seen.append(db.scalar(select(func.count()).select_from(UserSession)) or 0)
                await send(message)

            await app(scope, receive, send_after_looking)

        # No `with`: the app is already running; a second lifespan would reset the shared engine.
        watched = TestClient(watching, base_url="http://testserver")
        r = watched.post("/api/auth/login", json={"username": "admin", "password": "admin"})
        assert r.status_code == 200, r.text
        assert watched.get("/api/auth/session").status_code == 200
    assert sessions_seen == [1]
