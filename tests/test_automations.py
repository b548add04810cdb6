"""Automations through the HTTP API, on real folders: files dropped into a watched folder run as jobs of
the owner, half-copied files wait, failures go to failed/, restarts neither lose nor repeat work, paths
stay inside WATCH_ROOT, and schedules fire (with the loop's clock replaced)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import pyvips
from fastapi.testclient import TestClient

from app.db import session_scope
from app.models import Job
from tests.conftest import auth, create_user, make_client, sign_in_admin


def png(width: int = 40, height: int = 30, shade: int = 120) -> bytes:
    image = (pyvips.Image.black(width, height, bands=3) + [shade, 30, 200]).cast("uchar")
    return image.copy(interpretation="srgb").write_to_buffer(".png")


def wait_for(check: Callable[[], Any], timeout: float = 90.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def watch_env(app_env: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("AUTOMATION_SCAN_INTERVAL_S", "1")
    return app_env / "watch"


@pytest.fixture
def admin(watch_env: Path) -> Iterator[TestClient]:
    with make_client() as c:
        sign_in_admin(c)
        yield c


def drop(path: Path, content: bytes | str) -> None:
    """Puts a file into a watched folder the way a producer should with minAgeSeconds 0: written under a
    hidden name the filter does not match, then renamed, so a scan never meets it half-written (between
    its creation and its first write, a new file is empty, and a 0-second age would take it so)."""
    hidden = path.with_name(f".{path.name}.part")
    hidden.write_bytes(content.encode() if isinstance(content, str) else content)
    os.replace(hidden, path)


def create(c: TestClient, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "Shrink photos",
        "source": {"type": "folder", "path": "in"},
        "steps": [{"toolId": "resize", "settings": {"width": 20}}],
        "output": {"path": "out"},
        "filter": {"globs": ["*.png"], "minAgeSeconds": 0},
    }
    body.update(overrides)
    r = c.post("/api/v1/automations", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def runs(c: TestClient, automation_id: str, **params: Any) -> dict[str, Any]:
    r = c.get(f"/api/v1/automations/{automation_id}/runs", params=params)
    assert r.status_code == 200, r.text
    return r.json()


def finished(c: TestClient, automation_id: str, count: int, timeout: float = 90.0) -> list[dict[str, Any]]:
    def done() -> list[dict[str, Any]] | None:
        listed = runs(c, automation_id, limit=200)["runs"]
        ended = [r for r in listed if r["status"] in ("completed", "failed", "skipped")]
        return listed if len(ended) >= count else None

    # Generous: on a loaded 2-core CI machine a hundred jobs take a while; a pass takes far less.
    return wait_for(done, timeout=timeout, what=f"{count} finished runs")


def test_a_dropped_file_runs_as_a_job_and_lands_in_the_output_folder(admin: TestClient, watch_env: Path) -> None:
    automation = create(admin, afterSuccess="move")
    assert automation["source"]["path"] == str(watch_env / "in")
    assert automation["output"] == {
        "path": str(watch_env / "out"),
        "naming": "{stem}_{tool}.{ext}",
        "onConflict": "suffix",
    }
    drop(watch_env / "in" / "holiday.png", png(40, 30))
    drop(watch_env / "in" / "notes.txt", "not matched by *.png")

    [run] = finished(admin, automation["id"], 1)
    assert run["status"] == "completed", run
    assert run["input"] == "holiday.png"
    out = watch_env / "out" / "holiday_resize.png"
    assert run["outputPath"] == str(out)
    image = pyvips.Image.new_from_file(str(out))
    assert (image.width, image.height) == (20, 15)
    # The input moved to done/; the unmatched file stays untouched.
    wait_for(lambda: (watch_env / "in" / "done" / "holiday.png").exists(), what="input moved to done/")
    assert not (watch_env / "in" / "holiday.png").exists()
    assert (watch_env / "in" / "notes.txt").exists()
    # An ordinary job of the owner, with the usual bookkeeping.
    with session_scope() as db:
        job = db.get(Job, run["jobId"])
        assert job is not None and job.status == "completed" and job.tool_id == "resize"
        owner = job.user_id
    assert owner == admin.get("/api/auth/session").json()["user"]["id"]
    assert run["durationSeconds"] is not None and run["durationSeconds"] >= 0


def test_a_file_still_being_copied_is_taken_only_once_complete(admin: TestClient, watch_env: Path) -> None:
    automation = create(admin, filter={"globs": ["*.png"], "minAgeSeconds": 1})
    data = png(400, 300)
    target = watch_env / "in" / "scan.png"
    chunks = [data[i : i + len(data) // 6 + 1] for i in range(0, len(data), len(data) // 6 + 1)]
    with target.open("wb") as out:
        for chunk in chunks:
            out.write(chunk)
            out.flush()
            os.utime(target, ns=(0, 0))  # like `cp -p`: an old mtime while the file still grows
            time.sleep(0.4)
            assert runs(admin, automation["id"])["runs"] == [], "taken while still growing"
    [run] = finished(admin, automation["id"], 1)
    assert run["status"] == "completed", run
    assert run["size"] == len(data)
    image = pyvips.Image.new_from_file(run["outputPath"])
    assert (image.width, image.height) == (20, 15)


def test_a_hundred_files_dropped_at_once_are_each_processed_exactly_once(admin: TestClient, watch_env: Path) -> None:
    automation = create(admin, afterSuccess="delete")
    for n in range(100):
        drop(watch_env / "in" / f"p{n:03}.png", png(40, 30, shade=n))
    listed = finished(admin, automation["id"], 100, timeout=240)
    assert len(listed) == 100
    assert {r["status"] for r in listed} == {"completed"}
    assert sorted(r["input"] for r in listed) == [f"p{n:03}.png" for n in range(100)]
    outputs = sorted(p.name for p in (watch_env / "out").iterdir())
    assert outputs == [f"p{n:03}_resize.png" for n in range(100)]
    wait_for(lambda: not any((watch_env / "in").glob("*.png")), what="inputs deleted")
    # Pixels come from each one's own input.
    image = pyvips.Image.new_from_file(str(watch_env / "out" / "p042_resize.png"))
    assert round(image.extract_band(0).avg()) == 42


def test_a_failing_file_goes_to_failed_with_the_reason_beside_it(admin: TestClient, watch_env: Path) -> None:
    automation = create(admin, afterSuccess="move")
    drop(watch_env / "in" / "broken.png", "this is text, not a picture")
    [run] = finished(admin, automation["id"], 1)
    assert run["status"] == "failed"
    assert "broken.png" in run["error"] and "accepted" in run["error"]
    failed = watch_env / "in" / "failed"
    assert (failed / "broken.png").read_text() == "this is text, not a picture"
    assert run["error"] in (failed / "broken.png.error.txt").read_text()
    assert not (watch_env / "out").exists() or not any((watch_env / "out").iterdir())


def test_a_saved_pipeline_runs_and_names_the_last_tool(admin: TestClient, watch_env: Path) -> None:
    r = admin.post(
        "/api/v1/pipeline/save",
        json={
            "name": "shrink and turn",
            "steps": [{"toolId": "resize", "settings": {"width": 20}}, {"toolId": "rotate", "settings": {"angle": 90}}],
        },
    )
    assert r.status_code == 201, r.text
    automation = create(admin, steps=None, pipelineId=r.json()["id"])
    drop(watch_env / "in" / "a.png", png(40, 30))
    [run] = finished(admin, automation["id"], 1)
    assert run["status"] == "completed", run
    image = pyvips.Image.new_from_file(str(watch_env / "out" / "a_rotate.png"))
    assert (image.width, image.height) == (15, 20)


def test_on_conflict_skip_overwrite_and_suffix(admin: TestClient, watch_env: Path) -> None:
    out = watch_env / "out"
    out.mkdir(parents=True)
    for policy in ("skip", "overwrite", "suffix"):
        (out / f"{policy}.png").write_bytes(b"old")
    automation = create(admin, output={"path": "out", "naming": "{stem}.{ext}", "onConflict": "skip"})
    drop(watch_env / "in" / "skip.png", png())
    [run] = finished(admin, automation["id"], 1)
    assert run["status"] == "skipped" and (out / "skip.png").read_bytes() == b"old"

    for policy in ("overwrite", "suffix"):
        r = admin.patch(
            f"/api/v1/automations/{automation['id']}",
            json={"output": {"path": "out", "naming": "{stem}.{ext}", "onConflict": policy}},
        )
        assert r.status_code == 200, r.text
        drop(watch_env / "in" / f"{policy}.png", png())
        finished(admin, automation["id"], 2 if policy == "overwrite" else 3)
    assert pyvips.Image.new_from_file(str(out / "overwrite.png")).width == 20
    assert (out / "suffix.png").read_bytes() == b"old"
    assert pyvips.Image.new_from_file(str(out / "suffix-1.png")).width == 20


def test_a_restart_neither_loses_nor_repeats_work(watch_env: Path) -> None:
    with make_client() as c:
        sign_in_admin(c)
        automation = create(c, afterSuccess="move")
        for n in range(30):
            drop(watch_env / "in" / f"r{n:02}.png", png(shade=n))
        wait_for(lambda: any(r["status"] == "completed" for r in runs(c, automation["id"])["runs"]), what="a run")
    # Stopped mid-way; and more files arrive while the server is down.
    for n in range(30, 40):
        drop(watch_env / "in" / f"r{n:02}.png", png(shade=n))
    with make_client() as c:
        sign_in_admin(c, first_start=False)
        listed = finished(c, automation["id"], 40)
        assert sorted(r["input"] for r in listed) == [f"r{n:02}.png" for n in range(40)]
        assert {r["status"] for r in listed} == {"completed"}
        wait_for(lambda: len(list((watch_env / "in" / "done").iterdir())) == 40, what="all inputs moved")
    outputs = sorted(p.name for p in (watch_env / "out").iterdir())
    assert outputs == [f"r{n:02}_resize.png" for n in range(40)]  # none twice (no "-1" copies)


ESCAPES = [
    ("../escape", "out", "PATH_OUTSIDE_WATCH_ROOT"),
    ("/etc", "out", "PATH_OUTSIDE_WATCH_ROOT"),
    ("in", "/tmp", "PATH_OUTSIDE_WATCH_ROOT"),
    ("in/../../x", "out", "PATH_OUTSIDE_WATCH_ROOT"),
    ("link-out", "out", "PATH_OUTSIDE_WATCH_ROOT"),
    ("in", "link-out/results", "PATH_OUTSIDE_WATCH_ROOT"),
    ("in", "in/results", "OUTPUT_INSIDE_SOURCE"),
    ("in", "in", "OUTPUT_INSIDE_SOURCE"),
]


def test_paths_are_bounded_by_the_watch_root(admin: TestClient, watch_env: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    watch_env.mkdir(parents=True, exist_ok=True)
    (watch_env / "link-out").symlink_to(outside)
    for source, output, code in ESCAPES:
        r = admin.post(
            "/api/v1/automations",
            json={
                "name": "bad",
                "source": {"type": "folder", "path": source},
                "steps": [{"toolId": "resize", "settings": {"width": 20}}],
                "output": {"path": output},
            },
        )
        assert r.status_code == 400, (source, output, r.text)
        assert r.json()["code"] == code, (source, output)
    assert admin.get("/api/v1/automations").json()["automations"] == []
    assert list(outside.iterdir()) == []  # nothing was created through the link
    # A PATCH is held to the same rules.
    automation = create(admin)
    r = admin.patch(f"/api/v1/automations/{automation['id']}", json={"output": {"path": "in/sub"}})
    assert r.status_code == 400 and r.json()["code"] == "OUTPUT_INSIDE_SOURCE"


def test_a_symlink_inside_the_source_is_never_followed(admin: TestClient, watch_env: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.png"
    secret.write_bytes(png())
    automation = create(admin)
    (watch_env / "in" / "sneaky.png").symlink_to(secret)
    drop(watch_env / "in" / "real.png", png())
    [run] = finished(admin, automation["id"], 1)
    assert run["input"] == "real.png"
    time.sleep(0.5)
    assert [r["input"] for r in runs(admin, automation["id"])["runs"]] == ["real.png"]


def test_a_schedule_fires_over_the_files_present(admin: TestClient, watch_env: Path) -> None:
    manager = admin.app.state.automations
    automation = create(admin, trigger="schedule", schedule="0 2 * * *")
    assert automation["nextRunAt"] is not None
    fire = datetime.fromisoformat(automation["nextRunAt"])
    drop(watch_env / "in" / "night.png", png())
    time.sleep(1.5)  # a watch automation would have taken it by now
    assert runs(admin, automation["id"])["runs"] == []
    manager.clock = lambda: fire + timedelta(seconds=1)
    manager.wake()
    [run] = finished(admin, automation["id"], 1)
    assert run["status"] == "completed"
    after = admin.get(f"/api/v1/automations/{automation['id']}").json()
    assert datetime.fromisoformat(after["nextRunAt"]) == fire + timedelta(days=1)


def test_run_now_pause_and_the_runs_cursor(admin: TestClient, watch_env: Path) -> None:
    automation = create(admin, trigger="schedule", schedule="0 2 * * *")
    for n in range(5):
        drop(watch_env / "in" / f"n{n}.png", png())
    r = admin.post(f"/api/v1/automations/{automation['id']}/run")
    assert r.status_code == 202 and r.json()["filesTaken"] == 5
    finished(admin, automation["id"], 5)
    first = runs(admin, automation["id"], limit=2)
    second = runs(admin, automation["id"], limit=2, cursor=first["nextCursor"])
    third = runs(admin, automation["id"], limit=2, cursor=second["nextCursor"])
    names = [r["input"] for page in (first, second, third) for r in page["runs"]]
    assert sorted(names) == [f"n{n}.png" for n in range(5)] and third["nextCursor"] is None
    assert admin.get(f"/api/v1/automations/{automation['id']}/runs", params={"cursor": "%%%"}).status_code == 400

    r = admin.patch(f"/api/v1/automations/{automation['id']}", json={"enabled": False})
    assert r.json()["enabled"] is False
    drop(watch_env / "in" / "later.png", png())
    r = admin.post(f"/api/v1/automations/{automation['id']}/run")
    assert r.status_code == 400 and r.json()["code"] == "AUTOMATION_DISABLED"


def test_validation_messages(admin: TestClient) -> None:
    base = {"name": "x", "source": {"path": "in"}, "output": {"path": "out"}}
    cases = [
        ({**base}, "give either pipelineId or steps"),
        ({**base, "steps": [{"toolId": "resize"}], "trigger": "schedule"}, "needs a cron expression"),
        ({**base, "steps": [{"toolId": "resize"}], "schedule": "every day"}, "not a valid cron expression"),
        ({**base, "steps": [{"toolId": "resize"}], "output": {"path": "out", "naming": "../{stem}"}}, "file name"),
        ({**base, "steps": [{"toolId": "resize"}], "output": {"path": "out", "naming": "{user}.png"}}, "{user}"),
    ]
    for body, message in cases:
        r = admin.post("/api/v1/automations", json=body)
        assert r.status_code == 400 and r.json()["code"] == "VALIDATION_ERROR", r.text
        assert message in r.json()["error"]
    r = admin.post("/api/v1/automations", json={**base, "steps": [{"toolId": "no-such-tool"}]})
    assert r.status_code == 400 and r.json()["code"] == "UNKNOWN_TOOL"
    r = admin.post("/api/v1/automations", json={**base, "pipelineId": "missing"})
    assert r.status_code == 404 and r.json()["code"] == "PIPELINE_NOT_FOUND"


def test_permission_ownership_and_a_deleted_owner(admin: TestClient, watch_env: Path) -> None:
    plain = create_user(admin, "plain")
    r = admin.get("/api/v1/automations", headers=auth(plain))
    assert r.status_code == 403
    boss = create_user(admin, "boss", role="admin")
    theirs = admin.post(
        "/api/v1/automations",
        headers=auth(boss),
        json={
            "name": "boss's",
            "source": {"path": "boss-in"},
            "steps": [{"toolId": "resize", "settings": {"width": 20}}],
            "output": {"path": "boss-out"},
        },
    ).json()
    users = {u["username"]: u["id"] for u in admin.get("/api/auth/users").json()["users"]}
    assert admin.delete(f"/api/auth/users/{users['boss']}").status_code == 200
    manager = admin.app.state.automations
    manager.wake()
    after = wait_for(
        lambda: (a := admin.get(f"/api/v1/automations/{theirs['id']}").json()) and not a["enabled"] and a,
        what="automation disabled",
    )
    assert after["disabledReason"] == "Its owner was deleted"
    drop(watch_env / "boss-in" / "x.png", png())
    time.sleep(1.5)
    assert runs(admin, theirs["id"])["runs"] == []
    entries = admin.get("/api/v1/audit-log", params={"action": "AUTOMATION_DISABLED"}).json()
    assert any(e.get("targetId") == theirs["id"] for e in entries["entries"])
