"""The cheap paths under load: refusals at the door, one credential lookup per burst, health from the
probe's last answer, and every tool served by three routes.

Each test checks the behaviour that keeps a burst of requests from occupying the event loop; the
figures (health latency under 200 and 1,000 uploads) come from bench/load_uploads.py.
"""

from __future__ import annotations

import asyncio
import gc
import time
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from app import deps
from app.admission.early import EarlyRefusal, slots_of
from app.main import settle_start_up_objects
from app.system import db_probe
from tests.assertions import assert_error
from tests.conftest import ADMIN_PASSWORD, auth, login
from tests.engine.conftest import StartApp
from tests.test_pipelines import png


class Door:
    """EarlyRefusal around a stand-in for the app, which records what got in."""

    def __init__(self, client: TestClient, inside: Any = None) -> None:
        self.entered: list[str] = []
        self.inside = inside

        async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
            self.entered.append(scope["path"])
            if self.inside is not None:
                self.inside()
            await send({"type": "http.response.start", "status": 204, "headers": []})
            await send({"type": "http.response.body", "body": b""})

        self.door = EarlyRefusal(app, fastapi_app=client.app)

    def call(self, method: str, path: str, token: str) -> tuple[int, dict[str, str], bytes]:
        scope = {
            "type": "http",
            "method": method,
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "headers": [(b"authorization", f"Bearer {token}".encode()), (b"content-type", b"multipart/form-data")],
            "client": ("127.0.0.1", 1),
            "server": ("testserver", 80),
            "scheme": "http",
            "root_path": "",
        }
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            raise AssertionError("the door never reads a body")

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        asyncio.run(self.door(scope, receive, send))
        head = sent[0]
        headers = {k.decode(): v.decode() for k, v in head.get("headers", [])}
        return head["status"], headers, b"".join(m.get("body", b"") for m in sent[1:])


def _signed_in(client: TestClient) -> tuple[str, str]:
    token = client.headers["Authorization"].removeprefix("Bearer ")
    user_id = client.get("/api/auth/session").json()["user"]["id"]  # the credential is cached from here on
    return token, user_id


def test_a_caller_over_its_upload_limit_is_refused_at_the_door(start_app: StartApp) -> None:
    c = start_app(MAX_CONCURRENT_UPLOADS_PER_USER="2", MAX_CONCURRENT_UPLOADS="50")
    token, user_id = _signed_in(c)
    slots = slots_of(c.app)  # type: ignore[arg-type]
    for _ in range(2):
        slots.acquire(user_id, 2, 50)
    door = Door(c)
    try:
        status, headers, body = door.call("POST", "/api/v1/files/upload", token)
        assert status == 429 and int(headers["retry-after"]) > 0
        assert b"MAX_CONCURRENT_UPLOADS_PER_USER" in body and b'"code":"TOO_MANY_REQUESTS"' in body
        assert door.call("POST", "/api/v1/tools/image/resize", token)[0] == 429
        assert door.entered == []
        # What the app must decide itself goes in: an unknown tool (404), a route without an upload, a
        # credential the door cannot name (401), whatever the slots say.
        assert door.call("POST", "/api/v1/tools/image/no-such-tool", token)[0] == 204
        assert door.call("POST", "/api/v1/api-keys", token)[0] == 204
        assert door.call("POST", "/api/v1/files/upload", "not-a-real-token")[0] == 204
        assert door.entered == ["/api/v1/tools/image/no-such-tool", "/api/v1/api-keys", "/api/v1/files/upload"]
    finally:
        slots.release(user_id)
        slots.release(user_id)
    # Through the whole app, the same refusal is given when the slots are held by uploads in progress.
    slots.acquire(user_id, 2, 50)
    slots.acquire(user_id, 2, 50)
    try:
        r = c.post("/api/v1/files/upload", files={"file": ("a.png", png(), "image/png")})
        assert_error(r, 429, "TOO_MANY_REQUESTS")
    finally:
        slots.release(user_id)
        slots.release(user_id)
    assert c.post("/api/v1/files/upload", files={"file": ("a.png", png(), "image/png")}).status_code == 201


def test_requests_let_in_count_until_they_leave(start_app: StartApp) -> None:
    """A burst's requests all pass the door before the first reaches its slot: the door counts them."""
    c = start_app(MAX_CONCURRENT_UPLOADS_PER_USER="1", MAX_CONCURRENT_UPLOADS="50")
    token, user_id = _signed_in(c)
    slots = slots_of(c.app)  # type: ignore[arg-type]
    seen_inside: list[object] = []
    door = Door(c, inside=lambda: seen_inside.append(slots.refusal(user_id, 1, 50, at_the_door=True)))
    assert door.call("POST", "/api/v1/files/upload", token)[0] == 204
    assert seen_inside[0] is not None  # while it was inside, a second one would have been refused
    assert slots.refusal(user_id, 1, 50, at_the_door=True) is None  # and it left


def test_a_burst_with_a_new_credential_makes_one_lookup(start_app: StartApp, monkeypatch: pytest.MonkeyPatch) -> None:
    c = start_app()
    token = login(c, "admin", ADMIN_PASSWORD)  # a new session: its credential is not cached yet
    lookups: list[int] = []
    real = deps._looked_up

    def counted(request: Any, settings: Any) -> Any:
        lookups.append(1)
        time.sleep(0.2)  # long enough for the whole burst to arrive meanwhile
        return real(request, settings)

    monkeypatch.setattr(deps, "_looked_up", counted)

    async def burst() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=c.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            return await asyncio.gather(*(client.get("/api/auth/session", headers=auth(token)) for _ in range(20)))

    answers = asyncio.run(burst())
    assert [r.status_code for r in answers] == [200] * 20
    assert {r.json()["user"]["username"] for r in answers} == {"admin"}
    assert lookups == [1]
    # A bad credential is refused to every request of its burst.
    lookups.clear()

    async def bad_burst() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=c.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            bad = auth("not-a-real-session-token")
            return await asyncio.gather(*(client.get("/api/auth/session", headers=bad) for _ in range(5)))

    assert [r.status_code for r in asyncio.run(bad_burst())] == [401] * 5
    assert lookups == [1]


def test_health_reads_the_probes_last_answer(start_app: StartApp, monkeypatch: pytest.MonkeyPatch) -> None:
    c = start_app()
    asks: list[int] = []
    real = db_probe._ask
    monkeypatch.setattr(db_probe, "_ask", lambda: asks.append(1) or real())
    for _ in range(10):
        r = c.get("/api/v1/health")
        assert r.status_code == 200 and r.json()["checks"]["database"] == "ok"
    assert len(asks) <= 2  # the background refresh (every 0.5 s) at most: never once per check


def test_every_tool_is_served_by_three_routes(start_app: StartApp) -> None:
    c = start_app()
    routes = [r for r in c.app.routes if getattr(r, "path", "").startswith("/api/v1/tools/{section}")]
    assert sorted(r.path for r in routes) == [
        "/api/v1/tools/{section}/{tool_id}",
        "/api/v1/tools/{section}/{tool_id}/batch",
        "/api/v1/tools/{section}/{tool_id}/{action}",
    ]
    # Each is still documented on its own path, with its own settings schema.
    paths = c.get("/api/v1/openapi.json").json()["paths"]
    resize = paths["/api/v1/tools/image/resize"]["post"]
    assert resize["summary"] == "Resize" and "width" in str(resize["requestBody"])
    assert "/api/v1/tools/image/gif-tools/info" in paths and "/api/v1/tools/image/resize/batch" in paths
    assert "/api/v1/tools/image/barcode-generate/batch" not in paths
    # What is not a tool's route is told so.
    assert_error(c.post("/api/v1/tools/image/resize/no-such-action"), 404, "NOT_FOUND")
    assert_error(c.post("/api/v1/tools/image/barcode-generate/batch"), 404, "NOT_FOUND")
    assert_error(c.post("/api/v1/tools/pdf/resize"), 404, "TOOL_NOT_FOUND")


def test_start_up_objects_are_frozen_once_the_collector_was_off() -> None:
    gc.disable()
    try:
        settle_start_up_objects()
        assert gc.isenabled() and gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        gc.enable()
    settle_start_up_objects()  # with the collector on (tests, other servers) it leaves everything alone
    assert gc.get_freeze_count() == 0


def test_the_commonest_routes_match_first_and_the_document_keeps_its_order(start_app: StartApp) -> None:
    c = start_app()
    served = [getattr(r, "path", None) for r in c.app.router.routes]
    first_router = next(i for i, r in enumerate(c.app.router.routes) if hasattr(r, "original_router"))
    assert set(served[:first_router]) >= {
        "/api/v1/tools/{section}/{tool_id}",
        "/api/v1/tools/{section}/{tool_id}/batch",
    }
    paths = list(c.get("/api/v1/openapi.json").json()["paths"])
    # The document lists the routers as they are declared (health and auth first), tools after them.
    assert paths[0] == "/api/v1/health"
    assert paths.index("/api/auth/login") < paths.index("/api/v1/jobs/{job_id}/progress")
    assert paths.index("/api/v1/download/{job_id}/{filename}") < paths.index("/api/v1/tools/image/resize")


def test_a_fast_job_with_progress_writes_its_row_once(start_app: StartApp) -> None:
    from tests.engine.test_fast_path import job_row_writes

    c = start_app()
    with job_row_writes() as writes:
        r = c.post(
            "/api/v1/tools/image/resize",
            files={"file": ("a.png", png(), "image/png")},
            data={"settings": '{"width": 4}'},
        )
        assert r.status_code == 200, r.text
        time.sleep(0.3)  # a progress write would be spawned in the background: give it time to land
    # The tool reported progress (5 %, 100 %), but the row is written once, with the result.
    assert [w.split()[0].upper() for w in writes] == ["INSERT"], writes


def test_a_small_download_takes_one_thread_hop(start_app: StartApp, monkeypatch: pytest.MonkeyPatch) -> None:
    import anyio.to_thread

    c = start_app()
    r = c.post(
        "/api/v1/tools/image/resize", files={"file": ("a.png", png(), "image/png")}, data={"settings": '{"width": 4}'}
    )
    assert r.status_code == 200, r.text
    hops: list[str] = []
    real = anyio.to_thread.run_sync

    async def counted(func: Any, *args: Any, **kwargs: Any) -> Any:
        hops.append(getattr(func, "__name__", repr(func)))
        return await real(func, *args, **kwargs)

    monkeypatch.setattr(anyio.to_thread, "run_sync", counted)
    got = c.get(r.json()["downloadUrl"])
    assert got.status_code == 200 and got.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert int(got.headers["content-length"]) == len(got.content) and got.headers["etag"]
    assert len(hops) == 1, hops  # the row, the checks, the stat and the bytes together
    part = c.get(r.json()["downloadUrl"], headers={"Range": "bytes=1-3"})
    assert part.status_code == 206 and part.content == got.content[1:4]


def test_a_jpeg_ending_with_its_end_marker_is_complete_and_a_cut_one_is_not(tmp_path: Any) -> None:
    import pyvips

    from app.engine.media.integrity import is_truncated

    photo = pyvips.Image.gaussnoise(300, 200).cast("uchar").jpegsave_buffer(Q=90)
    assert photo.endswith(b"\xff\xd9")
    cases = {
        "whole.jpg": (photo, False),
        "cut.jpg": (photo[: len(photo) // 2], True),
        "cut-after-ff.jpg": (photo[: photo.rindex(b"\xff\x00") + 1], True),
        "trailer.jpg": (photo + b"motion photo data" * 100, False),  # data after the marker: the full walk
        "cut-trailer.jpg": (photo[: len(photo) // 2] + b"\xff\xd9"[:1], True),
    }
    for name, (data, cut) in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        assert is_truncated(path, "jpeg") is cut, name


def test_a_burst_s_spare_workers_retire_sooner_than_the_last_used(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uuid

    from app.engine.runner import Runner
    from app.engine.spec import InputRef, JobSpec, Step
    from tests.engine.helpers import TOOL_MODULES

    monkeypatch.setenv("TOOL_MODULES", TOOL_MODULES)  # the worker processes load the test tools
    picture = tmp_path / "in.png"
    picture.write_bytes(png())

    def spec() -> JobSpec:
        work = tmp_path / uuid.uuid4().hex
        work.mkdir()
        ref = InputRef(str(picture), picture.name, "png", picture.stat().st_size)
        return JobSpec(
            uuid.uuid4().hex, [Step("test-sleep", {"seconds": 0.5, "steps": 2})], [ref], str(work), timeout_s=60
        )

    async def scenario() -> None:
        runner = Runner(2, idle_timeout_s=300, spare_idle_timeout_s=20)
        try:
            outcomes = await asyncio.gather(*(runner.run(spec(), lambda *_: None) for _ in range(2)))
            assert [o.status for o in outcomes] == ["completed", "completed"]
            workers = list(runner._idle)
            assert len(workers) == 2
            newest = max(workers, key=lambda w: w.last_used)
            await runner.reap_idle(now=time.monotonic() + 10)
            assert len(runner._idle) == 2  # within the spare time both stay
            await runner.reap_idle(now=time.monotonic() + 21)
            assert runner._idle == [newest]  # the spare went; the last used stays warm
            assert [w.alive for w in workers if w is not newest] == [False]
            await runner.reap_idle(now=time.monotonic() + 301)
            assert runner._idle == [] and not newest.alive
        finally:
            await runner.close()

    asyncio.run(scenario())
