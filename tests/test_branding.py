"""Branding: APP_NAME, appName/accentColor settings, the logo upload (re-encoded), public reads and the
server-rendered <title>."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import pyvips
from fastapi.testclient import TestClient

from tests.assertions import assert_error
from tests.conftest import create_user, make_client, sign_in_admin


def _image(width: int, height: int, colour: tuple[int, int, int], kind: str = "png") -> bytes:
    image = (pyvips.Image.black(width, height) + list(colour)).cast("uchar").copy(interpretation="srgb")
    image.set_type(pyvips.GValue.gstr_type, "exif-ifd0-Artist", "secret author")
    return image.webpsave_buffer(lossless=True) if kind == "webp" else image.pngsave_buffer()


def _upload(client: TestClient, data: bytes, name: str = "logo.png", **kw: object):
    return client.post("/api/v1/branding/logo", files={"file": (name, data, "application/octet-stream")}, **kw)


def test_defaults_settings_and_server_rendered_title(app_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_NAME", "Otter Works")
    with make_client() as client:
        anonymous = TestClient(client.app, base_url="http://testserver")
        assert anonymous.get("/api/v1/branding").json() == {
            "appName": "Otter Works",
            "accentColor": None,  # the UI theme's own light and dark accents
            "logoUrl": None,
        }
        assert "<title>Otter Works</title>" in anonymous.get("/").text
        sign_in_admin(client)
        r = client.put("/api/v1/settings", json={"appName": "Acme & Co", "accentColor": "#AA3300"})
        assert r.status_code == 200, r.text
        assert anonymous.get("/api/v1/branding").json()["appName"] == "Acme & Co"
        assert anonymous.get("/api/v1/branding").json()["accentColor"] == "#aa3300"
        page = anonymous.get("/login").text
        assert "<title>Acme &amp; Co</title>" in page and "Otter Works" not in page
        for bad in ({"accentColor": "red; background: url(x)"}, {"accentColor": "#12345"}, {"appName": ""}):
            assert_error(client.put("/api/v1/settings", json=bad), 400, "VALIDATION_ERROR")
        assert_error(client.put("/api/v1/settings", json={"appName": "<script>x</script>"}), 400)


def test_logo_upload_is_re_encoded_and_public(admin: TestClient) -> None:
    r = _upload(admin, _image(800, 400, (10, 200, 30)))
    assert r.status_code == 200, r.text
    assert r.json()["logoUrl"].startswith("/api/v1/branding/logo?v=")
    anonymous = TestClient(admin.app, base_url="http://testserver")
    assert anonymous.get("/api/v1/branding").json()["logoUrl"] == r.json()["logoUrl"]
    served = anonymous.get(r.json()["logoUrl"])
    assert served.status_code == 200 and served.headers["content-type"] == "image/png"
    image = pyvips.Image.new_from_buffer(served.content, "")
    assert (image.width, image.height) == (512, 256)  # scaled down to 512 px
    assert [round(v) for v in image.getpoint(100, 100)][:3] == [10, 200, 30]
    assert b"secret author" not in served.content  # metadata dropped by the re-encode

    # WebP is accepted too (and still served as PNG).
    r = _upload(admin, _image(64, 64, (200, 10, 10), "webp"), "logo.webp")
    assert r.status_code == 200, r.text
    image = pyvips.Image.new_from_buffer(anonymous.get("/api/v1/branding/logo").content, "")
    assert (image.width, image.height) == (64, 64) and round(image.getpoint(5, 5)[0]) == 200

    assert admin.delete("/api/v1/branding/logo").json() == {"ok": True}
    assert_error(anonymous.get("/api/v1/branding/logo"), 404, "NO_LOGO")
    assert anonymous.get("/api/v1/branding").json()["logoUrl"] is None


def test_logo_upload_refuses_bad_input(admin: TestClient) -> None:
    jpeg = (pyvips.Image.black(8, 8) + 50).cast("uchar").jpegsave_buffer()
    assert_error(_upload(admin, jpeg, "logo.jpg"), 415, "UNSUPPORTED_MEDIA_TYPE")
    assert_error(_upload(admin, b"\x89PNG\r\n\x1a\n" + os.urandom(300)), 400, "INVALID_IMAGE")
    assert_error(_upload(admin, b""), 400, "NO_FILE")
    noise = pyvips.Image.gaussnoise(600, 600, sigma=80).cast("uchar").bandjoin([0, 0])
    big = noise.copy(interpretation="srgb").pngsave_buffer(compression=0)
    assert len(big) > 512 * 1024
    assert_error(_upload(admin, big), 413, "PAYLOAD_TOO_LARGE")
    assert_error(admin.post("/api/v1/branding/logo", content=b"x"), 400, "INVALID_MULTIPART")
    user = TestClient(admin.app, base_url="http://testserver")
    user.headers["Authorization"] = f"Bearer {create_user(admin, 'plain')}"
    assert_error(_upload(user, _image(8, 8, (1, 2, 3))), 403, "FORBIDDEN")
    assert_error(_upload(TestClient(admin.app), _image(8, 8, (1, 2, 3))), 401)
    assert_error(admin.get("/api/v1/branding/logo"), 404, "NO_LOGO")
