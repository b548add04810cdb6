"""Helpers for the layout, conversion and capture tool tests: multi-file posts and multi-output answers."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import pyvips
from fastapi.testclient import TestClient

from tests.tools.image.helpers import encode, solid


def png(width: int, height: int, colour: tuple[int, ...]) -> bytes:
    return encode(solid(width, height, colour), ".png")


def post_files(
    client: TestClient, tool_id: str, files: list[tuple[str, bytes]], settings: dict[str, Any] | None = None
) -> Any:
    """POSTs several uploads as `files` (the multi-file field) with settings."""
    return client.post(
        f"/api/v1/tools/image/{tool_id}",
        files=[("files", (name, data, "application/octet-stream")) for name, data in files],
        data={"settings": json.dumps(settings or {})},
    )


def ok(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    return response.json()


def get_bytes(client: TestClient, url: str) -> bytes:
    r = client.get(url)
    assert r.status_code == 200, r.text
    return r.content


def image_at(client: TestClient, url: str) -> pyvips.Image:
    return pyvips.Image.new_from_buffer(get_bytes(client, url), "").copy_memory()


def zip_entries(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def rgb(image: pyvips.Image, x: int, y: int) -> list[float]:
    return list(image(x, y))[:3]


def near(actual: list[float], expected: tuple[int, ...], tolerance: int = 12) -> bool:
    return all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=False))
