"""GET /api/v1/download/<jobId>/<filename>: types, RFC 6266 names, ranges and hostile paths."""

from __future__ import annotations

from urllib.parse import quote

from fastapi.testclient import TestClient

from tests.assertions import assert_error
from tests.engine.helpers import jpeg, png, post_tool

NAME = "Grüße aus Köln 图片.png"


def test_download_headers_and_non_ascii_name(tools_client: TestClient) -> None:
    image = png(width=40, height=30)
    r = post_tool(tools_client, "files/test-copy", [(NAME, image)])
    assert r.status_code == 200, r.text
    url = r.json()["downloadUrl"]
    assert url.split("?")[0].endswith("/" + quote(NAME))
    d = tools_client.get(url)
    assert d.status_code == 200
    assert d.content == image
    assert d.headers["content-type"] == "image/png"
    assert d.headers["content-length"] == str(len(image))
    assert d.headers["accept-ranges"] == "bytes"
    assert d.headers["x-content-type-options"] == "nosniff"
    disposition = d.headers["content-disposition"]
    assert disposition.startswith("attachment; ")
    assert 'filename="Gr__e aus K_ln __.png"' in disposition  # the ASCII fallback
    assert "filename*=UTF-8''" + quote(NAME, safe="") in disposition
    disposition.encode("latin-1")  # a header must be Latin-1 safe

    photo = jpeg()
    r = post_tool(tools_client, "files/test-copy", [("photo.jpg", photo)])
    d = tools_client.get(r.json()["downloadUrl"])
    assert (d.headers["content-type"], d.content) == ("image/jpeg", photo)


def test_range_requests(tools_client: TestClient) -> None:
    image = jpeg(width=120, height=80)
    size = len(image)
    url = post_tool(tools_client, "files/test-copy", [("r.jpg", image)]).json()["downloadUrl"]

    d = tools_client.get(url, headers={"Range": "bytes=10-19"})
    assert d.status_code == 206
    assert d.headers["content-range"] == f"bytes 10-19/{size}"
    assert d.headers["content-length"] == "10"
    assert d.content == image[10:20]

    d = tools_client.get(url, headers={"Range": "bytes=-7"})
    assert (d.status_code, d.content) == (206, image[-7:])
    d = tools_client.get(url, headers={"Range": f"bytes={size - 5}-"})
    assert (d.status_code, d.content) == (206, image[-5:])
    d = tools_client.get(url, headers={"Range": f"bytes=0-{size + 100}"})  # clamped to the end
    assert (d.status_code, d.content) == (206, image)
    assert d.headers["content-range"] == f"bytes 0-{size - 1}/{size}"

    for unsatisfiable in (f"bytes={size}-", f"bytes={size + 10}-{size + 20}"):
        d = tools_client.get(url, headers={"Range": unsatisfiable})
        assert_error(d, 416, "RANGE_NOT_SATISFIABLE")
        assert d.headers["content-range"] == f"bytes */{size}"
    assert_error(tools_client.get(url, headers={"Range": "pages=1-2"}), 400, "INVALID_RANGE")
    assert_error(tools_client.get(url, headers={"Range": "bytes=20-10"}), 400, "INVALID_RANGE")


def test_hostile_paths_are_400_and_unknown_files_404(tools_client: TestClient) -> None:
    r = post_tool(tools_client, "files/test-copy", [("ok.png", png())])
    job_id = r.json()["jobId"]
    base = "/api/v1/download"
    hostile = [
        f"{base}/{job_id}/%2E%2E",  # ".."
        f"{base}/{job_id}/..%2Fok.png",
        f"{base}/{job_id}/a..b.png",
        f"{base}/%2E%2E/ok.png",
        f"{base}/{job_id}%2E%2E/ok.png",
        f"{base}/{job_id}/sub%5Cok.png",  # backslash
        f"{base}/{job_id}%5C/ok.png",
        f"{base}/{job_id}/ok%00.png",  # NUL
        f"{base}/{job_id}%00/ok.png",
        f"{base}/{job_id}/in%2Fok.png",  # an encoded slash
        f"{base}/{job_id}%2Fx/ok.png",
        f"{base}/{job_id}/out/ok.png",  # a plain slash in the name
    ]
    for path in hostile:
        assert_error(tools_client.get(path), 400, "INVALID_PATH")
    assert tools_client.get(f"{base}/{job_id}/ok.png").status_code == 200
    assert_error(tools_client.get(f"{base}/{job_id}/missing.png"), 404, "NOT_FOUND")
    assert_error(tools_client.get(f"{base}/00000000-0000-0000-0000-000000000000/ok.png"), 404, "NOT_FOUND")
    # The uploaded input sits next to the outputs but is not a download.
    assert_error(tools_client.get(f"{base}/{job_id}/0000-ok.png"), 404, "NOT_FOUND")
