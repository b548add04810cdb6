"""/mcp driven by the official MCP client SDK against a real `lutra serve`: auth, listing, calls on
base64 input, chains through result URLs, progress, cancellation, find_tools and library resources."""

from __future__ import annotations

import asyncio
import base64
import json
import sqlite3
import subprocess
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import httpx2
import pytest
import pyvips
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests.web.conftest import Server

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@asynccontextmanager
async def connect(server: Server, token: str | None, query: str = "", mode: str = "auto") -> AsyncIterator[Client]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx2.AsyncClient(headers=headers, timeout=60) as http:
        transport = streamable_http_client(f"{server.base}/mcp{query}", http_client=http)
        async with Client(transport, mode=mode) as client:
            yield client


def run(server: Server, token: str | None, body: Callable[[Client], Awaitable[Any]], **kw: Any) -> Any:
    async def main() -> Any:
        async with connect(server, token, **kw) as client:
            return await body(client)

    return asyncio.run(main())


def png(width: int, height: int) -> bytes:
    return bytes(pyvips.Image.black(width, height, bands=3).write_to_buffer(".png"))


def b64(data: bytes, name: str) -> dict[str, str]:
    return {"base64": base64.b64encode(data).decode(), "filename": name}


def make_key(server: Server, permissions: list[str] | None = None) -> str:
    r = server.api().post("/api/v1/api-keys", json={"name": "scoped", "permissions": permissions})
    assert r.status_code == 201, r.text
    return str(r.json()["key"])


# -- auth ----------------------------------------------------------------------------------------------


def test_refused_without_a_valid_credential(server: Server) -> None:
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    r = httpx.post(server.base + "/mcp", json=body)
    assert r.status_code == 401
    assert r.json() == {"error": "Authentication required", "code": "AUTH_REQUIRED"}
    assert r.headers["www-authenticate"].startswith("Bearer")
    created = server.api().post("/api/v1/api-keys", json={"name": "revoked"}).json()
    assert server.api().delete(f"/api/v1/api-keys/{created['id']}").status_code in (200, 204)
    bad = httpx.post(server.base + "/mcp", json=body, headers={"Authorization": f"Bearer {created['key']}"})
    assert bad.status_code == 401 and bad.json()["code"] == "INVALID_API_KEY"
    # The browser's session cookie is not a credential here: a web page can't drive the tools.
    token = server.login("admin", "admin-password-1")
    cookie = httpx.post(server.base + "/mcp", json=body, cookies={"lutra-session": token})
    assert cookie.status_code == 401
    with pytest.raises(Exception):  # noqa: B017 - the SDK reports the 401 in its own exception types
        run(server, None, lambda c: c.list_tools())


def test_session_token_works_like_a_key(server: Server) -> None:
    token = server.login("admin", "admin-password-1")
    names = run(server, token, lambda c: c.list_tools())
    assert "image_resize" in {t.name for t in names.tools}


def test_key_without_tools_use_sees_and_runs_nothing(server: Server, admin_key: str) -> None:
    key = make_key(server, ["files:own"])

    async def body(client: Client) -> tuple[Any, Any]:
        listed = await client.list_tools()
        called = await client.call_tool("image_resize", {"file": b64(png(8, 8), "a.png"), "settings": {"width": 4}})
        return listed, called

    listed, called = run(server, key, body)
    assert listed.tools == []
    assert called.is_error
    assert called.structured_content == {"error": "Missing permission: tools:use", "code": "FORBIDDEN"}
    # The other way round: a tools-only key runs tools but sees no library files.
    api = server.api()
    assert api.post("/api/v1/files/upload", files={"file": ("x.png", png(4, 4), "image/png")}).status_code == 201
    tools_only = make_key(server, ["tools:use"])
    assert run(server, tools_only, lambda c: c.list_resources()).resources == []
    assert run(server, admin_key, lambda c: c.list_resources()).resources


# -- listing -------------------------------------------------------------------------------------------


def test_lists_one_tool_per_catalog_tool_with_its_settings_schema(server: Server, admin_key: str) -> None:
    catalog = server.client(admin_key).get("/api/v1/tools").json()["tools"]
    runnable = {f"{t['section']}_{t['id']}" for t in catalog if t.get("featureInstalled", True)}
    tools = {t.name: t for t in run(server, admin_key, lambda c: c.list_tools()).tools}
    assert set(tools) == runnable | {"find_tools"}
    assert {"image_resize", "pdf_merge-pdf", "audio_convert-audio"} <= set(tools)
    resize = tools["image_resize"]
    assert "Resize" in (resize.title or "")
    assert resize.annotations.destructive_hint is False and resize.annotations.open_world_hint is False
    props = resize.input_schema["properties"]
    rest_schema = next(t for t in catalog if t["id"] == "resize")["settingsSchema"]
    assert props["settings"]["properties"] == rest_schema["properties"] and "width" in rest_schema["properties"]
    assert {"base64", "fileId", "url"} == {next(iter(o["required"])) for o in props["file"]["oneOf"]}
    merge = tools["pdf_merge-pdf"].input_schema
    assert merge["properties"]["files"]["type"] == "array" and "files" in merge["required"]


def test_sections_filter_and_disabled_tools(server: Server, admin_key: str) -> None:
    names = {t.name for t in run(server, admin_key, lambda c: c.list_tools(), query="?sections=pdf").tools}
    assert "pdf_merge-pdf" in names and "find_tools" in names
    assert all(n.startswith("pdf_") for n in names - {"find_tools"})
    admin = server.api()
    assert admin.put("/api/v1/settings", json={"disabledTools": ["merge-pdf"]}).status_code == 200
    try:
        names = {t.name for t in run(server, admin_key, lambda c: c.list_tools(), query="?sections=pdf").tools}
        assert "pdf_merge-pdf" not in names and "pdf_compress-pdf" in names
        called = run(server, admin_key, lambda c: c.call_tool("pdf_merge-pdf", {"files": []}))
        assert called.is_error and called.structured_content["code"] == "TOOL_NOT_FOUND"
    finally:
        admin.put("/api/v1/settings", json={"disabledTools": []})


# -- calls ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["auto", "legacy"])
def test_fast_tool_on_base64_input(server: Server, admin_key: str, mode: str) -> None:
    args = {"file": b64(png(64, 48), "photo.png"), "settings": {"width": 32}}
    result = run(server, admin_key, lambda c: c.call_tool("image_resize", args), mode=mode)
    assert not result.is_error, result.content
    answer = result.structured_content
    assert answer["width"] == 32 and answer["height"] == 24
    assert answer["downloadUrl"].startswith(server.base + "/api/v1/download/")
    link, image, text = result.content
    assert link.type == "resource_link" and str(link.uri) == answer["downloadUrl"] and link.name == "photo_resized.png"
    assert image.type == "image" and image.mime_type == "image/png"
    inline = pyvips.Image.new_from_buffer(base64.b64decode(image.data), "")
    assert (inline.width, inline.height) == (32, 24)
    assert text.type == "text" and answer["jobId"] in text.text
    # The link is the REST download: the same bytes for the same credential.
    downloaded = server.client(admin_key).get(answer["downloadUrl"])
    assert downloaded.status_code == 200 and downloaded.content == base64.b64decode(image.data)
    # Its job row (written once, with the result) is there as soon as the answer is.
    job = server.client(admin_key).get(f"/api/v1/jobs/{answer['jobId']}")
    assert job.status_code == 200 and job.json()["status"] == "completed", job.text


def test_bad_input_answers_a_tool_error(server: Server, admin_key: str) -> None:
    async def body(client: Client) -> list[Any]:
        return [
            await client.call_tool("image_resize", {"file": b64(b"not an image", "a.png"), "settings": {"width": 4}}),
            await client.call_tool("image_resize", {"file": b64(png(8, 8), "a.png"), "settings": {"width": -1}}),
            await client.call_tool("image_resize", {"file": {"base64": "%%%"}, "settings": {"width": 4}}),
            await client.call_tool("image_nope", {}),
        ]

    media, setting, encoding, unknown = run(server, admin_key, body)
    assert media.is_error and media.structured_content["code"] == "UNSUPPORTED_MEDIA_TYPE"
    assert setting.is_error and setting.structured_content["code"] == "VALIDATION_ERROR"
    assert "width" in setting.content[0].text
    assert encoding.is_error and encoding.structured_content["code"] == "INVALID_FILE_REF"
    assert unknown.is_error and unknown.structured_content["code"] == "TOOL_NOT_FOUND"


def test_chain_passes_a_result_url_and_refuses_outside_addresses(server: Server, admin_key: str) -> None:
    async def body(client: Client) -> list[Any]:
        first = await client.call_tool("image_resize", {"file": b64(png(80, 40), "a.png"), "settings": {"width": 40}})
        url = first.structured_content["downloadUrl"]
        relative = "/" + url.split("/", 3)[3]
        second = await client.call_tool("image_resize", {"file": {"url": url}, "settings": {"width": 20}})
        third = await client.call_tool(
            "image_resize", {"file": {"url": relative + "?sig=x"}, "settings": {"width": 10}}
        )
        outside = await client.call_tool(
            "image_resize", {"file": {"url": "http://169.254.169.254/latest/meta-data"}, "settings": {"width": 4}}
        )
        lookalike = await client.call_tool(
            "image_resize", {"file": {"url": "http://example.com" + relative}, "settings": {"width": 4}}
        )
        return [second, third, outside, lookalike]

    second, third, outside, lookalike = run(server, admin_key, body)
    assert (second.structured_content["width"], second.structured_content["height"]) == (20, 10)
    assert (third.structured_content["width"], third.structured_content["height"]) == (10, 5)
    for refused in (outside, lookalike):
        assert refused.is_error and refused.structured_content["code"] == "URL_NOT_ALLOWED"


def test_other_users_results_are_not_reachable_by_url(server: Server, admin_key: str) -> None:
    admin = server.api()
    r = admin.post("/api/auth/register", json={"username": "mallory", "password": "first-password-1"})
    assert r.status_code == 201, r.text
    first_token = server.login("mallory", "first-password-1")
    first_login = server.client(first_token)
    # As over REST: a temporary password must be changed before anything else.
    listing = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    early = httpx.post(server.base + "/mcp", json=listing, headers={"Authorization": f"Bearer {first_token}"})
    assert early.status_code == 403 and early.json()["code"] == "MUST_CHANGE_PASSWORD"
    changed = {"currentPassword": "first-password-1", "newPassword": "mallory-password-1"}
    assert first_login.post("/api/auth/change-password", json=changed).status_code == 200
    mallory = server.login("mallory", "mallory-password-1")
    first = run(
        server,
        admin_key,
        lambda c: c.call_tool("image_resize", {"file": b64(png(8, 8), "a.png"), "settings": {"width": 4}}),
    )
    url = first.structured_content["downloadUrl"]
    stolen = run(
        server, mallory, lambda c: c.call_tool("image_resize", {"file": {"url": url}, "settings": {"width": 2}})
    )
    assert stolen.is_error and stolen.structured_content["code"] == "NOT_FOUND"


def _video(path: Path, seconds: int, size: str = "160x120") -> bytes:
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc2=s={size}:r=25:d={seconds}"]
        + ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(path)],
        check=True,
    )
    return path.read_bytes()


def test_long_tool_reports_progress(server: Server, admin_key: str, tmp_path: Path) -> None:
    video = _video(tmp_path / "clip.mp4", 4)
    seen: list[tuple[float, float | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append((progress, total))

    async def body(client: Client) -> Any:
        args = {"file": b64(video, "clip.mp4"), "settings": {"quality": "strong"}}
        return await client.call_tool("video_compress-video", args, progress_callback=on_progress)

    result = run(server, admin_key, body)
    assert not result.is_error, result.content
    assert urlsplit(result.structured_content["downloadUrl"]).path.endswith(".mp4")  # a signed link: ?exp=&sig=
    assert len(seen) >= 2 and all(total == 100 for _, total in seen)
    values = [p for p, _ in seen]
    assert values == sorted(values) and values[0] < 100
    out = server.client(admin_key).get(result.structured_content["downloadUrl"])
    probe = tmp_path / "out.mp4"
    probe.write_bytes(out.content)
    duration = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(probe)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert abs(float(duration) - 4) < 0.5


def _job_status(server: Server, tool_id: str) -> list[str]:
    with sqlite3.connect(server.data_dir / "lutra.db") as db:
        rows = db.execute("SELECT status FROM jobs WHERE tool_id = ? ORDER BY created_at", (tool_id,))
        return [row[0] for row in rows]


@pytest.mark.parametrize("mode", ["auto", "legacy"])
def test_client_cancellation_cancels_the_job(server: Server, admin_key: str, tmp_path: Path, mode: str) -> None:
    video = _video(tmp_path / "long.mp4", 60, "640x360")
    before = len(_job_status(server, "stabilize-video"))

    async def body(client: Client) -> None:
        going = asyncio.Event()

        async def on_progress(progress: float, total: float | None, message: str | None) -> None:
            if progress > 0:
                going.set()

        args = {"file": b64(video, "long.mp4"), "settings": {}}
        call = asyncio.ensure_future(client.call_tool("video_stabilize-video", args, progress_callback=on_progress))
        await asyncio.wait_for(going.wait(), 60)
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call

    run(server, admin_key, body, mode=mode)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and _job_status(server, "stabilize-video")[before:] != ["canceled"]:
        time.sleep(0.2)
    # Stopped where it was (a 60 s video takes the stabilizer far longer than this) and recorded so.
    assert _job_status(server, "stabilize-video")[before:] == ["canceled"]
    assert server.client(admin_key).get("/api/v1/admin/health").json()["queue"]["active"] == 0


# -- find_tools and resources ----------------------------------------------------------------------------


def test_find_tools_searches_and_describes(server: Server, admin_key: str) -> None:
    async def body(client: Client) -> tuple[Any, Any, Any]:
        found = await client.call_tool("find_tools", {"query": "merge pdf"})
        described = await client.call_tool("find_tools", {"describe": "image_resize"})
        empty = await client.call_tool("find_tools", {})
        return found, described, empty

    found, described, empty = run(server, admin_key, body, query="?sections=audio")
    assert found.structured_content["tools"][0]["name"] == "pdf_merge-pdf"
    assert described.structured_content["name"] == "image_resize"
    assert "width" in described.structured_content["inputSchema"]["properties"]["settings"]["properties"]
    assert empty.is_error and empty.structured_content["code"] == "BAD_ARGUMENT"


def test_library_files_are_resources_and_inputs(server: Server, admin_key: str) -> None:
    picture = png(30, 20)
    api = server.client(admin_key)
    r = api.post("/api/v1/files/upload", files={"file": ("lib.png", picture, "image/png")})
    assert r.status_code == 201, r.text
    file_id = r.json()["files"][0]["id"]

    async def body(client: Client) -> tuple[Any, Any, Any]:
        listed = await client.list_resources()
        read = await client.read_resource(f"lutra://files/{file_id}")
        ran = await client.call_tool("image_resize", {"file": {"fileId": file_id}, "settings": {"width": 15}})
        return listed, read, ran

    listed, read, ran = run(server, admin_key, body)
    mine = [res for res in listed.resources if str(res.uri) == f"lutra://files/{file_id}"]
    assert mine and mine[0].name == "lib.png" and mine[0].mime_type == "image/png"
    assert base64.b64decode(read.contents[0].blob) == picture
    assert ran.structured_content["width"] == 15 and ran.structured_content["savedFileId"]


def test_multi_file_tool_and_text_output(server: Server, admin_key: str) -> None:
    from tests.tools.pdf.helpers import text_pdf

    async def body(client: Client) -> tuple[Any, Any]:
        files = [b64(text_pdf(["First doc"]), "one.pdf"), b64(text_pdf(["Second doc"]), "two.pdf")]
        merged = await client.call_tool("pdf_merge-pdf", {"files": files})
        url = merged.structured_content["downloadUrl"]
        return merged, await client.call_tool("pdf_pdf-to-text", {"file": {"url": url}})

    merged, text = run(server, admin_key, body)
    assert not merged.is_error, merged.content
    assert not text.is_error, text.content
    link, extracted, answer = text.content
    assert link.type == "resource_link" and link.mime_type.startswith("text/")
    pages = [" ".join(p.split()) for p in extracted.text.split("\f") if p.strip()]
    assert pages == ["First doc", "Second doc"]
    assert text.structured_content["pages"] == 2 and json.loads(answer.text)["pages"] == 2
