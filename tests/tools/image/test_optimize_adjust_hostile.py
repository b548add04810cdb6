"""Zero-byte, truncated and garbage uploads to the optimisation and adjustment tools: a 4xx, never a 5xx."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.assertions import assert_error
from tests.tools.image.helpers import encode, noise, post

TOOLS = [
    "optimize-for-web",
    "strip-metadata",
    "edit-metadata",
    "image-to-pdf",
    "favicon",
    "adjust-colors",
    "sharpening",
    "replace-color",
    "color-blindness",
    "duotone",
    "pixelate",
    "vignette",
]


def test_hostile_uploads_get_a_4xx(admin: TestClient) -> None:
    jpeg = encode(noise(120, 90), ".jpg", Q=90)
    png = encode(noise(120, 90), ".png")
    cases = {
        "empty.jpg": b"",
        "cut.jpg": jpeg[: len(jpeg) // 2],
        "cut.png": png[: len(png) // 2],
        "garbage.jpg": b"\xff\xd8\xff\xe0" + bytes(range(256)) * 8,
        "noise.png": b"not an image at all" * 50,
    }
    for tool_id in TOOLS:
        for name, data in cases.items():
            r = post(admin, tool_id, data, {}, name)
            assert 400 <= r.status_code < 500, f"{tool_id} {name}: {r.status_code} {r.text}"
            assert_error(r, r.status_code)


@pytest.mark.parametrize("action", ["strip-metadata/inspect", "edit-metadata/inspect", "optimize-for-web/preview"])
def test_hostile_uploads_to_actions(admin: TestClient, action: str) -> None:
    jpeg = encode(noise(60, 40), ".jpg")
    for data in (b"", jpeg[:200], b"garbage" * 30):
        r = admin.post(f"/api/v1/tools/image/{action}", files={"file": ("x.jpg", data)})
        assert 400 <= r.status_code < 500, f"{action}: {r.status_code} {r.text}"
