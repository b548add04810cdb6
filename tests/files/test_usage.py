"""GET /api/v1/usage: per user, per section and tool, succeeded/failed, bytes, processing time, storage."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from tests.assertions import assert_error
from tests.engine.helpers import png
from tests.files.helpers import upload, user_client


def test_usage_report(tools_client: TestClient) -> None:
    admin = tools_client
    alice = user_client(admin, "alice")
    image = png(12, 12)
    for _ in range(2):
        r = alice.post("/api/v1/tools/files/test-copy", files={"file": ("a.png", image, "image/png")})
        assert r.status_code == 200, r.text
    r = alice.post("/api/v1/tools/files/test-fail", files={"file": ("a.png", image, "image/png")})
    assert r.status_code == 422
    alice.post("/api/v1/upload", files={"file": ("w.png", image, "image/png")})  # bookkeeping, not a job
    stored = upload(alice, image)
    admin.post("/api/v1/tools/files/test-copy", files={"file": ("a.png", image, "image/png")})

    report = alice.get("/api/v1/usage").json()
    assert report["username"] == "alice"
    assert report["from"].startswith(datetime.now(UTC).strftime("%Y-%m-01T00:00:00"))
    assert report["jobs"] == {"total": 3, "succeeded": 2, "failed": 1, "canceled": 0}
    assert report["bytesIn"] == 3 * len(image) and report["bytesOut"] == 2 * len(image)
    assert report["processingSeconds"] >= 0
    assert report["bySection"] == [
        {"section": "files", "total": 3, "succeeded": 2, "failed": 1, "canceled": 0,
         "bytesIn": 3 * len(image), "bytesOut": 2 * len(image), "processingSeconds": report["processingSeconds"]}
    ]  # fmt: skip
    tools = {t["toolId"]: t for t in report["byTool"]}
    assert (tools["test-copy"]["succeeded"], tools["test-fail"]["failed"]) == (2, 1)
    assert report["storage"] == {"usedBytes": stored["size"], "fileVersions": 1, "quotaBytes": None}

    # A period before anything ran is empty; a reversed one is refused.
    past = (datetime.now(UTC) - timedelta(days=40)).date().isoformat()
    empty = alice.get(
        "/api/v1/usage", params={"from": past, "to": (datetime.now(UTC) - timedelta(days=35)).isoformat()}
    )
    assert empty.json()["jobs"]["total"] == 0
    assert_error(alice.get("/api/v1/usage", params={"from": "2030-01-02", "to": "2030-01-01"}), 400, "INVALID_PERIOD")

    # Everyone, per user: audit:read only.
    assert_error(alice.get("/api/v1/usage", params={"all": "true"}), 403)
    everyone = {u["username"]: u for u in admin.get("/api/v1/usage", params={"all": "true"}).json()["users"]}
    assert everyone["alice"]["jobs"]["total"] == 3 and everyone["admin"]["jobs"]["total"] == 1
