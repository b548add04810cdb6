"""/api/v1/user/preferences: favourite and recent tools, theme and language, per user, validated."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import auth, create_user


def test_defaults_then_partial_updates_that_keep_the_rest(admin: TestClient) -> None:
    r = admin.get("/api/v1/user/preferences")
    assert r.status_code == 200
    assert r.json() == {"favourites": [], "recent": [], "theme": "system", "locale": None}

    r = admin.put("/api/v1/user/preferences", json={"favourites": ["resize", "merge-pdf", "resize"], "theme": "dark"})
    assert r.status_code == 200, r.text
    assert r.json()["favourites"] == ["resize", "merge-pdf"]  # duplicates dropped, order kept
    r = admin.put("/api/v1/user/preferences", json={"locale": "de", "recent": ["compress-pdf"]})
    assert r.json() == {
        "favourites": ["resize", "merge-pdf"],
        "recent": ["compress-pdf"],
        "theme": "dark",
        "locale": "de",
    }
    assert admin.get("/api/v1/user/preferences").json()["locale"] == "de"
    r = admin.put("/api/v1/user/preferences", json={"favourites": None, "locale": None})
    assert r.json()["favourites"] == [] and r.json()["locale"] is None and r.json()["theme"] == "dark"


def test_each_user_has_their_own(admin: TestClient) -> None:
    other = create_user(admin, "someone")
    admin.put("/api/v1/user/preferences", json={"favourites": ["resize"]})
    assert admin.get("/api/v1/user/preferences", headers=auth(other)).json()["favourites"] == []
    r = admin.put("/api/v1/user/preferences", headers=auth(other), json={"theme": "light"})
    assert r.json()["theme"] == "light"
    assert admin.get("/api/v1/user/preferences").json()["theme"] == "system"


def test_bad_values_are_refused_with_the_reason(admin: TestClient) -> None:
    cases = [
        ({"favourites": ["no-such-tool"]}, "unknown tool id 'no-such-tool'"),
        ({"theme": "purple"}, "theme"),
        ({"locale": "xx"}, "locale"),
        ({"recent": ["resize"] * 21}, "recent"),
        ({"colour": "red"}, "colour"),
    ]
    for body, message in cases:
        r = admin.put("/api/v1/user/preferences", json=body)
        assert r.status_code == 400 and r.json()["code"] == "VALIDATION_ERROR", r.text
        assert message in r.text
    assert admin.get("/api/v1/user/preferences").json()["favourites"] == []
    anonymous = TestClient(admin.app, base_url="http://testserver")
    assert anonymous.get("/api/v1/user/preferences").status_code == 401
