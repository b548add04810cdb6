"""Generated test images and one call through the real HTTP API for the image tool tests."""

from __future__ import annotations

import json
from typing import Any

import pyvips
from fastapi.testclient import TestClient

RED = (255, 0, 0)
GREEN = (0, 255, 0)
BLUE = (0, 0, 255)


def solid(width: int, height: int, colour: tuple[int, ...] = (40, 120, 200)) -> pyvips.Image:
    """A flat image with as many bands as `colour` has values (4 gives RGBA)."""
    return (
        (pyvips.Image.black(width, height, bands=len(colour)) + list(colour)).cast("uchar").copy(interpretation="srgb")
    )


def marked(width: int, height: int, size: int = 10) -> pyvips.Image:
    """Grey with a red square in the top-left corner and a blue one in the bottom-right, to follow turns."""
    image = solid(width, height, (128, 128, 128))
    image = image.draw_rect(list(RED), 0, 0, size, size, fill=True)
    return image.draw_rect(list(BLUE), width - size, height - size, size, size, fill=True)


def noise(width: int, height: int) -> pyvips.Image:
    """Photographic-ish content that doesn't compress to nothing: Gaussian noise over a gradient."""
    grad = pyvips.Image.xyz(width, height)[0] * (255 / max(1, width))
    bands = [(grad + pyvips.Image.gaussnoise(width, height, sigma=40, mean=0)).cast("uchar") for _ in range(3)]
    return bands[0].bandjoin(bands[1:]).copy(interpretation="srgb")


def encode(image: pyvips.Image, suffix: str, **options: Any) -> bytes:
    return image.write_to_buffer(suffix, **options)


def run_tool(
    client: TestClient, tool_id: str, data: bytes, settings: dict[str, Any], name: str = "input.jpg"
) -> dict[str, Any]:
    """POSTs to the tool; asserts 200 and returns the JSON answer."""
    r = client.post(
        f"/api/v1/tools/image/{tool_id}",
        files={"file": (name, data, "application/octet-stream")},
        data={"settings": json.dumps(settings)},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["downloadUrl"].startswith(f"/api/v1/download/{body['jobId']}/")
    assert body["originalSize"] == len(data)
    return body


def post(client: TestClient, tool_id: str, data: bytes, settings: dict[str, Any], name: str = "input.jpg") -> Any:
    return client.post(
        f"/api/v1/tools/image/{tool_id}",
        files={"file": (name, data, "application/octet-stream")},
        data={"settings": json.dumps(settings)},
    )


def download(client: TestClient, body: dict[str, Any]) -> bytes:
    r = client.get(body["downloadUrl"])
    assert r.status_code == 200, r.text
    assert len(r.content) == body["processedSize"]
    return r.content


def fetch_image(client: TestClient, body: dict[str, Any]) -> pyvips.Image:
    """Downloads the result and opens it, fully decoded so pixel reads are cheap."""
    return pyvips.Image.new_from_buffer(download(client, body), "").copy_memory()


def loader(image: pyvips.Image) -> str:
    return image.get("vips-loader")


def pixel(image: pyvips.Image, x: int, y: int) -> list[float]:
    return list(image(x, y))


def close(actual: list[float], expected: tuple[int, ...], tolerance: int = 40) -> bool:
    return all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=False))
