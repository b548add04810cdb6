"""Webhooks end to end: a real local HTTP receiver, signatures checked with the standardwebhooks library."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from standardwebhooks import Webhook as Verifier
from standardwebhooks.webhooks import WebhookVerificationError

from app.db import session_scope
from app.models import AuditEntry, Webhook, WebhookDelivery
from app.webhooks import dispatcher, outbox
from app.webhooks.dispatcher import Claimed
from tests.assertions import assert_error
from tests.conftest import auth, create_user
from tests.engine.conftest import StartApp
from tests.engine.helpers import multipart_files, png
from tests.integrations.conftest import Receiver

LOCAL = {"WEBHOOK_ALLOWED_HOSTS": "127.0.0.1"}


def add_hook(c: TestClient, url: str, events: list[str] | None = None, **kw: object) -> dict:
    r = c.post("/api/v1/webhooks", json={"url": url, "events": events or ["*"], **kw})
    assert r.status_code == 201, r.text
    return r.json()


def deliveries(c: TestClient, hook_id: str) -> list[dict]:
    r = c.get(f"/api/v1/webhooks/{hook_id}/deliveries")
    assert r.status_code == 200, r.text
    return r.json()["deliveries"]


def due_now(delivery_id: str) -> None:
    """Time travel: the scheduled retry is due at once."""
    with session_scope() as db:
        db.execute(
            update(WebhookDelivery).where(WebhookDelivery.id == delivery_id).values(next_attempt_at=datetime.now(UTC))
        )


def test_create_shows_the_secret_once_and_refuses_bad_input(start_app: StartApp, receiver: Receiver) -> None:
    c = start_app(**LOCAL)
    hook = add_hook(c, receiver.url, ["job.completed", "file.created"], description="CI")
    assert hook["secret"].startswith("whsec_") and len(hook["secret"]) > 30
    assert hook["enabled"] is True and hook["events"] == ["job.completed", "file.created"]
    listed = c.get("/api/v1/webhooks").json()["webhooks"]
    assert [h["id"] for h in listed] == [hook["id"]]
    assert "secret" not in listed[0] and "secret" not in c.get(f"/api/v1/webhooks/{hook['id']}").json()

    assert_error(c.post("/api/v1/webhooks", json={"url": receiver.url, "events": []}), 422, "VALIDATION_ERROR")
    r = c.post("/api/v1/webhooks", json={"url": receiver.url, "events": ["job.exploded"]})
    assert "job.exploded" in assert_error(r, 422, "VALIDATION_ERROR")["error"]
    for url in ("ftp://example.com/x", "file:///etc/passwd", "http://user:pw@127.0.0.1/x", "not a url"):
        assert_error(c.post("/api/v1/webhooks", json={"url": url, "events": ["*"]}), 400, "WEBHOOK_TARGET_NOT_ALLOWED")
    # PATCH checks the URL the same way.
    r = c.patch(f"/api/v1/webhooks/{hook['id']}", json={"url": "http://10.1.2.3/hook"})
    assert "10.1.2.3" in assert_error(r, 400, "WEBHOOK_TARGET_NOT_ALLOWED")["error"]


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/hook",
        "http://localhost/hook",
        "http://10.0.0.5/hook",
        "http://192.168.1.1/hook",
        "http://169.254.169.254/latest/meta-data/",  # cloud metadata
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://224.0.0.1/hook",
        "http://0.0.0.0/hook",
    ],
)
def test_internal_targets_are_refused_without_the_allow_list(start_app: StartApp, url: str) -> None:
    c = start_app()
    r = c.post("/api/v1/webhooks", json={"url": url, "events": ["*"]})
    assert "WEBHOOK_ALLOWED_HOSTS" in assert_error(r, 400, "WEBHOOK_TARGET_NOT_ALLOWED")["error"]


def test_a_job_event_arrives_signed_as_standard_webhooks_says(start_app: StartApp, receiver: Receiver) -> None:
    c = start_app(**LOCAL)
    hook = add_hook(c, receiver.url, ["job.completed"])
    r = c.post("/api/v1/tools/files/test-copy", files={"file": ("a.png", png(), "image/png")})
    assert r.status_code == 200, r.text
    job = r.json()
    (got,) = receiver.wait_for(1)
    # Any Standard Webhooks library verifies it with the secret; a wrong secret does not.
    event = Verifier(hook["secret"]).verify(got.body, got.headers)
    with pytest.raises(WebhookVerificationError):
        Verifier("whsec_" + "A" * 32).verify(got.body, got.headers)
    assert got.headers["webhook-id"].startswith("msg_")
    assert abs(int(got.headers["webhook-timestamp"]) - datetime.now(UTC).timestamp()) < 60
    assert got.headers["content-type"] == "application/json"
    assert event["type"] == "job.completed"
    datetime.fromisoformat(event["timestamp"])
    data = event["data"]
    assert data["jobId"] == job["jobId"] and data["tool"] == "test-copy"
    assert data["downloadUrl"] == job["downloadUrl"]
    assert data["originalSize"] == job["originalSize"] and data["processedSize"] == job["processedSize"]
    assert data["username"] == "admin" and isinstance(data["durationMs"], int)
    # The download URL in the event really serves the result.
    assert c.get(data["downloadUrl"]).content == png()
    (logged,) = deliveries(c, hook["id"])
    assert logged["id"] == got.headers["webhook-id"]
    assert logged["eventType"] == "job.completed" and logged["status"] == "succeeded"
    assert [(a["attempt"], a["status"], a["error"]) for a in logged["attempts"]] == [(1, 200, None)]
    assert logged["attempts"][0]["durationMs"] >= 0


def test_a_500_is_retried_with_the_same_id_and_redeliver_sends_again(start_app: StartApp, receiver: Receiver) -> None:
    c = start_app(**LOCAL)
    hook = add_hook(c, receiver.url, ["*"])
    receiver.plan.extend([500, 302])
    r = c.post(f"/api/v1/webhooks/{hook['id']}/test")
    assert r.status_code == 202
    delivery_id = r.json()["deliveryId"]
    receiver.wait_for(1)
    (logged,) = _wait_attempts(c, hook["id"], 1)
    assert logged["status"] == "pending" and logged["attempts"][0]["status"] == 500
    # The first retry is scheduled within 30 s of the failure.
    first = datetime.fromisoformat(logged["attempts"][0]["timestamp"])
    assert timedelta(0) < datetime.fromisoformat(logged["nextAttemptAt"]) - first <= timedelta(seconds=30)

    due_now(delivery_id)
    receiver.wait_for(2)
    _wait_attempts(c, hook["id"], 2)
    due_now(delivery_id)  # the 302 was a failure too: redirects are not followed
    got = receiver.wait_for(3)
    (logged,) = _wait_attempts(c, hook["id"], 3)
    assert [a["status"] for a in logged["attempts"]] == [500, 302, 200]
    assert logged["status"] == "succeeded"
    assert not [g for g in got if g.path != "/hook"]  # nothing went to the redirect's Location
    assert {g.headers["webhook-id"] for g in got} == {delivery_id}
    for g in got:  # each attempt signed afresh, all verifiable
        assert Verifier(hook["secret"]).verify(g.body, g.headers)["type"] == "webhook.test"
    assert len({g.body for g in got}) == 1

    r = c.post(f"/api/v1/webhooks/{hook['id']}/deliveries/{delivery_id}/redeliver")
    assert r.status_code == 202
    assert receiver.wait_for(4)[-1].headers["webhook-id"] == delivery_id
    assert_error(c.post(f"/api/v1/webhooks/{hook['id']}/deliveries/msg_nope/redeliver"), 404, "DELIVERY_NOT_FOUND")


def _wait_attempts(c: TestClient, hook_id: str, count: int) -> list[dict]:
    deadline = datetime.now(UTC) + timedelta(seconds=10)
    while datetime.now(UTC) < deadline:
        found = deliveries(c, hook_id)
        if found and len(found[0]["attempts"]) >= count and found[0]["status"] != "sending":
            return found
        time.sleep(0.05)
    raise AssertionError(f"no delivery with {count} attempts: {found}")


def test_rotating_the_secret_signs_with_the_new_one(start_app: StartApp, receiver: Receiver) -> None:
    c = start_app(**LOCAL)
    hook = add_hook(c, receiver.url)
    r = c.post(f"/api/v1/webhooks/{hook['id']}/rotate-secret")
    assert r.status_code == 200
    secret = r.json()["secret"]
    assert secret.startswith("whsec_") and secret != hook["secret"]
    c.post(f"/api/v1/webhooks/{hook['id']}/test")
    (got,) = receiver.wait_for(1)
    Verifier(secret).verify(got.body, got.headers)
    with pytest.raises(WebhookVerificationError):
        Verifier(hook["secret"]).verify(got.body, got.headers)


def test_a_webhook_failing_for_24_hours_is_disabled_and_can_be_enabled(start_app: StartApp, receiver: Receiver) -> None:
    c = start_app(**LOCAL)
    hook = add_hook(c, receiver.url)
    with session_scope() as db:
        db.execute(
            update(Webhook)
            .where(Webhook.id == hook["id"])
            .values(failing_since=datetime.now(UTC) - timedelta(hours=25))
        )
    receiver.plan.append(503)
    c.post(f"/api/v1/webhooks/{hook['id']}/test")
    receiver.wait_for(1)
    deadline = datetime.now(UTC) + timedelta(seconds=10)
    while c.get(f"/api/v1/webhooks/{hook['id']}").json()["enabled"] and datetime.now(UTC) < deadline:
        time.sleep(0.05)
    shown = c.get(f"/api/v1/webhooks/{hook['id']}").json()
    assert shown["enabled"] is False and "24 hours" in shown["disabledReason"]
    with session_scope() as db:
        entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "WEBHOOK_DISABLED"))
        assert entry is not None and entry.target_id == hook["id"] and entry.details["lastError"] == "HTTP 503"
    # While disabled nothing is sent; the retry waits for PATCH {"enabled": true}.
    assert_error(c.post(f"/api/v1/webhooks/{hook['id']}/test"), 409, "WEBHOOK_DISABLED")
    r = c.patch(f"/api/v1/webhooks/{hook['id']}", json={"enabled": True})
    assert r.json()["enabled"] is True and r.json()["failingSince"] is None
    (logged,) = deliveries(c, hook["id"])
    due_now(logged["id"])
    assert receiver.wait_for(2)[-1].headers["webhook-id"] == logged["id"]


def test_nothing_is_lost_across_a_restart(start_app: StartApp, receiver: Receiver) -> None:
    c = start_app(**LOCAL)
    add_hook(c, receiver.url)
    later = datetime.now(UTC) + timedelta(hours=1)
    with session_scope() as db:
        hooks = list(db.scalars(select(Webhook)))
        # A retry scheduled for later, and a delivery the server was sending when it stopped.
        ids = outbox.queue(db, hooks, "webhook.test", {"n": 1}) + outbox.queue(db, hooks, "webhook.test", {"n": 2})
        db.execute(update(WebhookDelivery).where(WebhookDelivery.id == ids[0]).values(next_attempt_at=later))
        db.execute(update(WebhookDelivery).where(WebhookDelivery.id == ids[1]).values(status="sending", attempts=1))
    time.sleep(1.5)  # a dispatcher pass: neither is sent
    assert receiver.requests == []
    c.__exit__(None, None, None)

    start_app(first_start=False, **LOCAL)
    assert receiver.wait_for(1)[0].headers["webhook-id"] == ids[1]
    due_now(ids[0])
    got = receiver.wait_for(2)
    assert [g.headers["webhook-id"] for g in got] == [ids[1], ids[0]]
    assert [g.json()["data"]["n"] for g in got] == [2, 1]


def test_delivery_time_check_refuses_a_target_now_internal(receiver: Receiver) -> None:
    """DNS can change after creation: the dispatcher checks again and sends nothing to an internal address."""
    claimed = Claimed("msg_x", "w", "webhook.test", receiver.url, "whsec_" + "B" * 32, "{}", 1)

    async def go() -> dispatcher.AttemptResult:
        async with httpx.AsyncClient() as client:
            return await dispatcher.attempt(client, claimed, frozenset(), 5.0)

    result = asyncio.run(go())
    assert result.status_code is None and "internal address" in (result.error or "")
    assert receiver.requests == []
    allowed = asyncio.run(_with_allowed(claimed))
    assert allowed.status_code == 200 and len(receiver.requests) == 1


async def _with_allowed(claimed: Claimed) -> dispatcher.AttemptResult:
    async with httpx.AsyncClient() as client:
        return await dispatcher.attempt(client, claimed, frozenset({"127.0.0.1"}), 5.0)


def test_ownership_and_system_events(start_app: StartApp, receiver: Receiver) -> None:
    c = start_app(**LOCAL)
    token = create_user(c, "olga")
    olga = TestClient(c.app, base_url="http://testserver", headers=auth(token))
    mine = add_hook(olga, receiver.url + "?who=olga", ["*"])
    # Plain users may not subscribe to system events; admins see and manage every webhook.
    assert_error(olga.post("/api/v1/webhooks", json={"url": receiver.url, "events": ["user.login_failed"]}), 403)
    admins = add_hook(c, receiver.url + "?who=admin", ["user.login_failed", "job.completed"])
    assert [h["id"] for h in olga.get("/api/v1/webhooks").json()["webhooks"]] == [mine["id"]]
    assert {h["id"] for h in c.get("/api/v1/webhooks").json()["webhooks"]} == {mine["id"], admins["id"]}
    assert_error(olga.get(f"/api/v1/webhooks/{admins['id']}"), 404, "WEBHOOK_NOT_FOUND")
    assert_error(olga.delete(f"/api/v1/webhooks/{admins['id']}"), 404, "WEBHOOK_NOT_FOUND")
    assert_error(olga.get(f"/api/v1/webhooks/{admins['id']}/deliveries"), 404, "WEBHOOK_NOT_FOUND")

    # A failed login reaches the admin's webhook only; olga's job reaches olga's only.
    bad = TestClient(c.app, base_url="http://testserver").post(
        "/api/auth/login", json={"username": "olga", "password": "wrong"}
    )
    assert bad.status_code == 401
    r = olga.post("/api/v1/tools/files/test-copy", files={"file": ("a.png", png(), "image/png")})
    assert r.status_code == 200, r.text
    got = receiver.wait_for(2)
    time.sleep(1.2)  # one more dispatcher pass: nothing else arrives
    by_who = {g.path.split("who=")[1]: g.json() for g in receiver.requests}
    assert len(receiver.requests) == 2, [g.json()["type"] for g in got]
    assert by_who["admin"]["type"] == "user.login_failed"
    assert by_who["admin"]["data"]["username"] == "olga" and by_who["admin"]["data"]["reason"] == "bad_password"
    assert by_who["olga"]["type"] == "job.completed" and by_who["olga"]["data"]["jobId"] == r.json()["jobId"]


def test_key_and_file_events_and_user_deletion(start_app: StartApp, receiver: Receiver) -> None:
    c = start_app(**LOCAL)
    token = create_user(c, "pia")
    pia = TestClient(c.app, base_url="http://testserver", headers=auth(token))
    add_hook(pia, receiver.url, ["apikey.created", "apikey.revoked", "file.created", "file.deleted"])
    key = pia.post("/api/v1/api-keys", json={"name": "ci"}).json()
    assert c.delete(f"/api/v1/api-keys/{key['id']}").status_code == 200  # revoked by an admin: pia hears of it
    up = pia.post("/api/v1/files/upload", files={"file": ("p.png", png(), "image/png")})
    assert up.status_code == 201, up.text
    file_id = up.json()["files"][0]["id"]
    assert pia.request("DELETE", "/api/v1/files", json={"ids": [file_id]}).status_code == 200
    got = receiver.wait_for(4)
    types = [g.json()["type"] for g in got]
    assert sorted(types) == ["apikey.created", "apikey.revoked", "file.created", "file.deleted"]
    data = {g.json()["type"]: g.json()["data"] for g in got}
    assert data["apikey.created"]["apiKeyId"] == data["apikey.revoked"]["apiKeyId"] == key["id"]
    assert "key" not in data["apikey.created"]  # never the raw key
    assert data["file.created"]["id"] == data["file.deleted"]["id"] == file_id
    # A user's webhooks go with the user.
    users = c.get("/api/auth/users").json()["users"]
    pia_id = next(u["id"] for u in users if u["username"] == "pia")
    assert c.delete(f"/api/auth/users/{pia_id}").status_code == 200
    with session_scope() as db:
        assert db.scalars(select(Webhook)).all() == []


def test_batch_pipeline_failed_and_canceled_jobs_raise_their_events(start_app: StartApp, receiver: Receiver) -> None:
    c = start_app(**LOCAL)
    add_hook(c, receiver.url, ["batch.completed", "pipeline.completed", "job.failed", "job.canceled"])
    files = multipart_files([("a.png", png()), ("b.png", png(colour=(9, 9, 9)))], "files")
    batch = c.post("/api/v1/tools/files/test-copy/batch", files=files)
    assert batch.status_code == 200
    steps = json.dumps({"steps": [{"toolId": "test-copy", "settings": {}}]})
    pipeline = c.post(
        "/api/v1/pipeline/execute", files={"file": ("a.png", png(), "image/png")}, data={"pipeline": steps}
    )
    assert pipeline.status_code == 200, pipeline.text
    assert c.post("/api/v1/tools/files/test-fail", files={"file": ("a.png", png(), "image/png")}).status_code == 422
    slow = c.post(
        "/api/v1/tools/files/test-sleep",
        files={"file": ("a.png", png(), "image/png")},
        data={"settings": '{"seconds": 30}'},
    )
    assert c.post(f"/api/v1/jobs/{slow.json()['jobId']}/cancel").json()["canceled"] is True
    got = {g.json()["type"]: g.json()["data"] for g in receiver.wait_for(4)}
    assert set(got) == {"batch.completed", "pipeline.completed", "job.failed", "job.canceled"}
    assert got["batch.completed"]["jobId"] == batch.headers["x-job-id"] and got["batch.completed"]["totalFiles"] == 2
    assert got["pipeline.completed"]["jobId"] == pipeline.json()["jobId"]
    assert got["pipeline.completed"]["downloadUrl"] == pipeline.json()["downloadUrl"]
    assert "no pixels worth keeping" in got["job.failed"]["error"] and got["job.failed"]["tool"] == "test-fail"
    assert got["job.canceled"]["jobId"] == slow.json()["jobId"]


def test_payloads_stay_under_256_kb_and_old_deliveries_are_pruned(start_app: StartApp, receiver: Receiver) -> None:
    many = [{"filename": f"page-{i}.png", "downloadUrl": f"/api/v1/download/j/page-{i}.png"} for i in range(5000)]
    body = json.loads(outbox.payload("job.completed", {"jobId": "j", "downloadUrl": "/d", "downloads": many}))
    assert len(json.dumps(body).encode()) <= outbox.MAX_PAYLOAD_BYTES
    assert body["data"] == {"jobId": "j", "downloadUrl": "/d", "truncated": True}

    c = start_app(**LOCAL)
    add_hook(c, receiver.url)
    with session_scope() as db:
        hooks = list(db.scalars(select(Webhook)))
        old, recent = outbox.queue(db, hooks, "webhook.test", {}) + outbox.queue(db, hooks, "webhook.test", {})
        long_ago = datetime.now(UTC) - timedelta(days=31)
        db.execute(update(WebhookDelivery).where(WebhookDelivery.id == old).values(created_at=long_ago))
    receiver.wait_for(2)
    _wait_attempts(c, hooks[0].id, 1)
    assert dispatcher.prune() == 1
    assert [d["id"] for d in deliveries(c, hooks[0].id)] == [recent]
