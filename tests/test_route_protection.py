"""Every route the app serves is guarded, found by walking the app itself rather than a fixed list.

Routes added later (tools, jobs, pipelines, files) are covered automatically; a route meant to be
public must be added to PUBLIC below, on purpose and in review.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.routing import Mount

from tests.assertions import AUTH_REQUIRED, assert_error, assert_no_leak
from tests.conftest import auth, login

# (method, path template) pairs anyone may call without credentials; "*" matches every method.
PUBLIC: set[tuple[str, str]] = {
    ("GET", "/api/v1/health"),
    ("GET", "/api/v1/config/auth"),
    ("GET", "/api/v1/config/analytics"),
    ("POST", "/api/auth/login"),
    ("*", "/api/docs"),
    # Swagger UI's own scripts and styles, served locally so the docs work offline.
    ("GET", "/api/docs/assets/{rest:path}"),
    ("*", "/docs/oauth2-redirect"),
    ("*", "/api/v1/openapi.json"),
    ("*", "/api/v1/openapi.yaml"),
    ("*", "/llms.txt"),
    ("*", "/llms-full.txt"),
    # The browser UI: every UI path answers the same HTML shell (app/web/routes.py), public like any
    # static page; everything the pages show comes from the guarded API. Its /static mount is public
    # by the rule for mounts outside /api below.
    ("GET", "/"),
    ("GET", "/login"),
    ("GET", "/change-password"),
    ("GET", "/tools/{section}/{tool_id}"),
    ("GET", "/pipelines"),
    ("GET", "/automations"),
    # The service worker script: the app shell's file list, no data (app/web/sw.js).
    ("GET", "/sw.js"),
    ("GET", "/files"),
    ("GET", "/files/{file_id}"),
    ("GET", "/settings"),
    ("GET", "/settings/{tab}"),
}
# What a user with a temporary password may still do: see who they are, leave, or change it.
BEFORE_PASSWORD_CHANGE = {
    ("GET", "/api/auth/session"),
    ("POST", "/api/auth/logout"),
    ("POST", "/api/auth/change-password"),
}
PARAM = re.compile(r"{(\w+)(?::(\w+))?}")


def _walk(app: FastAPI) -> Iterator[tuple[str, str, bool]]:
    """Yields (method, path template, is_mount) for every route, however routers were included."""
    try:
        from fastapi.routing import iter_route_contexts  # FastAPI >= 0.160 nests included routers
    except ImportError:  # pragma: no cover - older FastAPI keeps app.routes flat
        contexts = list(app.routes)
    else:
        contexts = list(iter_route_contexts(app.routes))
    for route in contexts:
        path = getattr(route, "path", None)
        if not path:
            continue
        if isinstance(getattr(route, "original_route", route), Mount):
            yield "GET", path.rstrip("/") + "/{rest:path}", True
            continue
        for method in sorted(getattr(route, "methods", None) or ()):
            if method != "HEAD":
                yield method, path, False


def _is_public(method: str, path: str, is_mount: bool) -> bool:
    # A mount outside /api (the browser UI's static files) is public like SnapOtter's non-API paths.
    if is_mount and not path.startswith("/api"):
        return True
    return (method, path) in PUBLIC or ("*", path) in PUBLIC


def _fill(path: str, value: str = "00000000-0000-0000-0000-000000000000") -> str:
    return PARAM.sub(lambda m: "x.png" if m.group(2) == "path" and value.startswith("0000") else value, path)


def _protected(app: FastAPI) -> list[tuple[str, str]]:
    return [(m, p) for m, p, mount in _walk(app) if not _is_public(m, p, mount)]


def test_the_walk_sees_the_platform_routes(client: TestClient) -> None:
    seen = {(m, p) for m, p, _ in _walk(client.app)}  # type: ignore[arg-type]
    # A sanity check on the walker itself: it must find routes from every included router.
    for expected in [
        ("POST", "/api/auth/login"),
        ("DELETE", "/api/auth/users/{user_id}"),
        ("POST", "/api/v1/api-keys"),
        ("GET", "/api/v1/settings"),
        ("GET", "/api/v1/health"),
        ("GET", "/api/docs"),
    ]:
        assert expected in seen, sorted(seen)
    assert {(m, p) for m, p in PUBLIC if m != "*"} <= seen


def test_every_route_but_the_public_ones_needs_credentials(client: TestClient) -> None:
    failures = []
    for method, path in _protected(client.app):  # type: ignore[arg-type]
        r = client.request(method, _fill(path))
        if r.status_code != 401 or r.json() != AUTH_REQUIRED:
            failures.append(f"{method} {path}: {r.status_code} {r.text[:200]}")
    assert not failures, "unguarded routes:\n" + "\n".join(failures)


def test_bad_credentials_are_refused_everywhere(client: TestClient) -> None:
    failures = []
    for method, path in _protected(client.app):  # type: ignore[arg-type]
        for header in ("Bearer not-a-real-token", "Bearer si_" + "0" * 96):
            r = client.request(method, _fill(path), headers={"Authorization": header})
            if r.status_code != 401:
                failures.append(f"{method} {path} with {header[:12]}: {r.status_code} {r.text[:200]}")
    assert not failures, "\n".join(failures)


def test_public_routes_answer_without_credentials(client: TestClient) -> None:
    for method, path in sorted(PUBLIC):
        if method == "*":
            method = "GET"
        if path == "/docs/oauth2-redirect":
            continue  # FastAPI's helper page; only served when OAuth2 is configured
        body = {"username": "nobody", "password": "wrong-password"} if path == "/api/auth/login" else None
        path = path.replace("{rest:path}", "swagger-ui.css")
        r = client.request(method, path, json=body)
        assert r.status_code in (200, 401), (path, r.status_code, r.text[:200])
        if path == "/api/auth/login":
            assert r.json()["code"] == "INVALID_CREDENTIALS"
        else:
            assert r.status_code == 200, (path, r.text[:200])


def test_temporary_password_blocks_every_route_but_three(client: TestClient) -> None:
    token = login(client, "admin", "admin")
    client.cookies.clear()
    failures = []
    for method, path in _protected(client.app):  # type: ignore[arg-type]
        if (method, path) in BEFORE_PASSWORD_CHANGE:
            continue
        r = client.request(method, _fill(path), headers=auth(token))
        if r.status_code != 403 or r.json().get("code") != "MUST_CHANGE_PASSWORD":
            failures.append(f"{method} {path}: {r.status_code} {r.text[:200]}")
    assert not failures, "routes usable before the password change:\n" + "\n".join(failures)
    assert client.get("/api/auth/session", headers=auth(token)).status_code == 200


# Path values an attacker might try: NUL (PostgreSQL text cannot hold it), overlong, traversal, unicode.
HOSTILE = ["nul%00byte", "x" * 300, "..%2F..%2Fetc%2Fpasswd", "%E2%80%AE%F0%9F%92%A5", "%27%20OR%201%3D1--"]
# The platform core's own routes; streaming routes (job progress) are left out of blind probing.
CORE_PREFIXES = ("/api/auth/", "/api/v1/api-keys", "/api/v1/teams", "/api/v1/roles", "/api/v1/settings")


def test_hostile_path_values_never_cause_a_server_error(admin: TestClient) -> None:
    failures = []
    for method, path in _protected(admin.app):  # type: ignore[arg-type]
        if "{" not in path or not path.startswith(CORE_PREFIXES):
            continue
        for value in HOSTILE:
            r = admin.request(method, _fill(path, value), json={})
            assert_no_leak(r)
            if r.status_code >= 500:
                failures.append(f"{method} {path} with {value[:20]}: {r.status_code} {r.text[:200]}")
            elif r.status_code >= 400:
                assert_error(r, r.status_code)
    assert not failures, "\n".join(failures)
    assert admin.get("/api/auth/session").status_code == 200
