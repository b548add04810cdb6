"""Helpers for the watermark, overlay and utility tool tests: multi-part and JSON calls, region checks."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pyvips
from fastapi.testclient import TestClient

Part = tuple[str, str, bytes]  # (field, filename, bytes)


def post_parts(client: TestClient, tool_id: str, parts: list[Part], settings: dict[str, Any]) -> httpx.Response:
    """POSTs several named file parts (file, files, watermark, overlay, compare ...) plus settings."""
    files = [(field, (name, data, "application/octet-stream")) for field, name, data in parts]
    return client.post(f"/api/v1/tools/image/{tool_id}", files=files, data={"settings": json.dumps(settings)})


def post_json(client: TestClient, tool_id: str, settings: dict[str, Any]) -> httpx.Response:
    return client.post(f"/api/v1/tools/image/{tool_id}", json=settings)


def ok(r: httpx.Response) -> dict[str, Any]:
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["downloadUrl"].startswith(f"/api/v1/download/{body['jobId']}/")
    return body


def region(image: pyvips.Image, left: int, top: int, width: int, height: int) -> pyvips.Image:
    return image.crop(left, top, width, height)


def darkest(image: pyvips.Image) -> float:
    """The lowest value in any colour band (alpha left out)."""
    bands = image.bands - 1 if image.hasalpha() else image.bands
    return float(image.extract_band(0, n=bands).min())


def changed_pixels(a: pyvips.Image, b: pyvips.Image, tolerance: int = 8) -> int:
    """How many pixels differ by more than `tolerance` in any band (same-size images)."""
    diff = (a.cast("int") - b.cast("int")).abs()
    per_pixel = _max_band(diff)
    return int((per_pixel > tolerance).avg() / 255 * a.width * a.height)


def _max_band(image: pyvips.Image) -> pyvips.Image:
    out = image[0]
    for i in range(1, image.bands):
        out = (out > image[i]).ifthenelse(out, image[i])
    return out
