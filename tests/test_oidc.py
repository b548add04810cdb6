"""OIDC single sign-on end to end against a real OpenID provider on 127.0.0.1 (tests/oidc_provider.py):
discovery, PKCE login, callback, tampered token, wrong state and nonce, role mapping, auto-create,
link by email, MAX_USERS, logout through end_session_endpoint, /api/v1/config/auth."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from joserfc.jwk import RSAKey
from sqlalchemy import select

from app.config import get_settings
from app.models import AuditEntry, OidcLoginState, User
from app.oidc import provider as oidc_provider
from tests.assertions import assert_error, database
from tests.conftest import ADMIN_PASSWORD, auth, login, sign_in_admin
from tests.oidc_provider import CLIENT_ID, RunningProvider

HTML = {"Accept": "text/html,application/xhtml+xml"}


@pytest.fixture
def idp() -> Iterator[RunningProvider]:
    running = RunningProvider()
    oidc_provider.forget_cache()
    yield running
    running.stop()
    oidc_provider.forget_cache()


def start(monkeypatch: pytest.MonkeyPatch, idp: RunningProvider, **env: str) -> TestClient:
    for key, value in idp.env(**env).items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    from app.main import create_app

    return TestClient(create_app(), base_url="http://testserver")


def to_provider(client: TestClient) -> str:
    """GET /api/auth/oidc/login; returns the provider's authorization URL it redirects to."""
    r = client.get("/api/auth/oidc/login", follow_redirects=False)
    assert r.status_code == 302, r.text
    return r.headers["location"]


def provider_redirect(url: str) -> str:
    """The browser at the provider: it signs in and sends the browser back with code and state."""
    r = httpx.get(url, follow_redirects=False)
    assert r.status_code == 302, r.text
    back = urlsplit(r.headers["location"])
    assert back.path == "/api/auth/oidc/callback"
    return f"{back.path}?{back.query}"


def sso_login(client: TestClient) -> httpx.Response:
    return client.get(provider_redirect(to_provider(client)), headers=HTML, follow_redirects=False)


def test_login_callback_and_auto_created_user(
    app_env: Path, monkeypatch: pytest.MonkeyPatch, idp: RunningProvider
) -> None:
    with start(monkeypatch, idp) as c:
        assert c.get("/api/v1/config/auth").json() == {
            "authEnabled": True,
            "passwordLoginEnabled": True,
            "oidc": {"enabled": True, "label": "Sign in with SSO"},
        }
        url = to_provider(c)
        assert url.startswith(f"{idp.issuer}/authorize?")
        query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
        assert query["client_id"] == CLIENT_ID
        assert query["scope"] == "openid profile email"
        assert query["code_challenge_method"] == "S256"
        assert query["redirect_uri"] == "http://testserver/api/auth/oidc/callback"
        assert len(query["state"]) >= 32 and len(query["nonce"]) >= 32
        # The login state lives in the database, hashed; nothing of it in a cookie.
        with database() as db:
            states = list(db.scalars(select(OidcLoginState)))
        assert len(states) == 1 and states[0].state_hash != query["state"]
        assert states[0].nonce == query["nonce"]
        assert "/.well-known/openid-configuration" in idp.provider.requests

        r = c.get(provider_redirect(url), headers=HTML, follow_redirects=False)
        assert r.status_code == 303, r.text
        assert r.headers["location"] == "/"
        cookie = r.headers["set-cookie"].lower()
        assert cookie.startswith("lutra-session=") and "samesite=lax" in cookie and "httponly" in cookie
        assert "/token" in idp.provider.requests and "/jwks" in idp.provider.requests
        session = c.get("/api/auth/session").json()
        assert session["user"]["username"] == "carol"
        assert session["user"]["authProvider"] == "oidc"
        assert session["user"]["loginMethod"] == "oidc"
        assert session["user"]["role"] == "user"
        assert session["user"]["mustChangePassword"] is False
        # The state is spent: the same callback URL does not log in twice.
        with database() as db:
            assert db.scalar(select(OidcLoginState)) is None
            user = db.scalar(select(User).where(User.username == "carol"))
            assert user.password_hash == "" and user.email == "carol@example.test"
        # No password: a password login as carol never works.
        assert_error(c.post("/api/auth/login", json={"username": "carol", "password": ""}), 400)
        assert_error(c.post("/api/auth/login", json={"username": "carol", "password": "x"}), 401)

        # A second SSO login finds the same account.
        c.cookies.clear()
        assert sso_login(c).status_code == 303
        assert c.get("/api/auth/session").json()["user"]["username"] == "carol"
        with database() as db:
            assert db.scalar(select(User.id).where(User.username.like("carol%")).offset(1)) is None


def test_a_tampered_id_token_and_a_wrong_nonce_are_refused(
    app_env: Path, monkeypatch: pytest.MonkeyPatch, idp: RunningProvider
) -> None:
    with start(monkeypatch, idp, OIDC_ROLE_CLAIM="groups", OIDC_ADMIN_VALUES="lutra-admins") as c:
        idp.provider.tamper_id_token = True
        r = sso_login(c)
        assert r.status_code == 303 and r.headers["location"] == "/login?ssoError=OIDC_INVALID_ID_TOKEN"
        assert "set-cookie" not in r.headers
        idp.provider.tamper_id_token = False
        idp.provider.wrong_nonce = True
        # An API client gets the error body instead of the redirect.
        r = c.get(provider_redirect(to_provider(c)), follow_redirects=False)
        assert_error(r, 400, "OIDC_INVALID_ID_TOKEN")
        with database() as db:
            assert db.scalar(select(User).where(User.username == "carol")) is None
            reasons = [
                e.details["reason"] for e in db.scalars(select(AuditEntry).where(AuditEntry.action == "LOGIN_FAILED"))
            ]
        assert reasons == ["OIDC_INVALID_ID_TOKEN", "OIDC_INVALID_ID_TOKEN"]


def test_a_rotated_signing_key_is_fetched_again(
    app_env: Path, monkeypatch: pytest.MonkeyPatch, idp: RunningProvider
) -> None:
    with start(monkeypatch, idp) as c:
        assert sso_login(c).headers["location"] == "/"
        # The provider rotates its key: Lutra's cached JWKS lacks the new kid, so it reads the JWKS again.
        idp.provider.key = RSAKey.generate_key(2048, parameters={"kid": "k2", "alg": "RS256", "use": "sig"})
        c.cookies.clear()
        assert sso_login(c).headers["location"] == "/"
        assert idp.provider.requests.count("/jwks") == 2


def test_a_wrong_or_reused_state_is_refused(
    app_env: Path, monkeypatch: pytest.MonkeyPatch, idp: RunningProvider
) -> None:
    with start(monkeypatch, idp) as c:
        callback = provider_redirect(to_provider(c))
        path, query = callback.split("?")
        params = {k: v[0] for k, v in parse_qs(query).items()}
        forged = {**params, "state": params["state"][:-2] + "xx"}
        assert_error(c.get(path, params=forged, follow_redirects=False), 400, "OIDC_STATE_INVALID")
        r = c.get(path, params={"code": params["code"]}, headers=HTML, follow_redirects=False)
        assert r.headers["location"] == "/login?ssoError=OIDC_STATE_INVALID"
        assert c.get(callback, follow_redirects=False).status_code == 303  # the right state works once
        c.cookies.clear()
        assert_error(c.get(callback, follow_redirects=False), 400, "OIDC_STATE_INVALID")


def test_another_api_node_can_finish_the_login(
    app_env: Path, monkeypatch: pytest.MonkeyPatch, idp: RunningProvider
) -> None:
    with start(monkeypatch, idp) as c:
        callback = provider_redirect(to_provider(c))
        from app.main import create_app

        # A second app instance on the same database (its own process memory) finishes the login.
        other = TestClient(create_app(), base_url="http://testserver")
        r = other.get(callback, follow_redirects=False)
        assert r.status_code == 303, r.text
        assert other.get("/api/auth/session").json()["user"]["username"] == "carol"


def test_role_claim_maps_admins(app_env: Path, monkeypatch: pytest.MonkeyPatch, idp: RunningProvider) -> None:
    idp.provider.claims["groups"] = ["staff", "lutra-admins"]
    with start(monkeypatch, idp, OIDC_ROLE_CLAIM="groups", OIDC_ADMIN_VALUES="ops, lutra-admins") as c:
        sso_login(c)
        assert c.get("/api/auth/session").json()["user"]["role"] == "admin"
        # Taken out of the group at the provider: the next login is no longer admin.
        idp.provider.claims["groups"] = ["staff"]
        c.cookies.clear()
        sso_login(c)
        assert c.get("/api/auth/session").json()["user"]["role"] == "user"
        # Another person without the group gets OIDC_DEFAULT_ROLE.
        idp.provider.claims.update(sub="user-2", preferred_username="dave", email="dave@example.test")
        c.cookies.clear()
        sso_login(c)
        assert c.get("/api/auth/session").json()["user"]["role"] == "user"


def test_default_role_and_no_auto_create(app_env: Path, monkeypatch: pytest.MonkeyPatch, idp: RunningProvider) -> None:
    with start(monkeypatch, idp, OIDC_DEFAULT_ROLE="editor") as c:
        sso_login(c)
        assert c.get("/api/auth/session").json()["user"]["role"] == "editor"
    monkeypatch.setenv("OIDC_AUTO_CREATE_USERS", "false")
    idp.provider.claims.update(sub="user-2", preferred_username="dave")
    with start(monkeypatch, idp) as c:
        r = sso_login(c)
        assert r.headers["location"] == "/login?ssoError=OIDC_USER_NOT_FOUND"


def test_link_by_email_only_when_the_setting_is_on(
    app_env: Path, monkeypatch: pytest.MonkeyPatch, idp: RunningProvider
) -> None:
    with start(monkeypatch, idp) as c:
        sign_in_admin(c)
        body = {"username": "carol", "password": "carol-password-1", "email": "Carol@Example.test"}
        assert c.post("/api/auth/register", json=body).status_code == 201
        sso = TestClient(c.app, base_url="http://testserver")
        sso_login(sso)
        user = sso.get("/api/auth/session").json()["user"]
        assert user["username"] != "carol" and user["authProvider"] == "oidc"  # a separate account

        assert c.put("/api/v1/settings", json={"oidcLinkByEmail": True}).status_code == 200
        idp.provider.claims.update(sub="user-9")
        # An unverified email never links.
        idp.provider.claims["email_verified"] = False
        sso = TestClient(c.app, base_url="http://testserver")
        sso_login(sso)
        assert sso.get("/api/auth/session").json()["user"]["username"] != "carol"
        idp.provider.claims.update(sub="user-10", email_verified=True)
        sso = TestClient(c.app, base_url="http://testserver")
        sso_login(sso)
        user = sso.get("/api/auth/session").json()["user"]
        assert user["username"] == "carol" and user["authProvider"] == "local"


def test_auto_created_users_count_toward_max_users(
    app_env: Path, monkeypatch: pytest.MonkeyPatch, idp: RunningProvider
) -> None:
    with start(monkeypatch, idp, MAX_USERS="1") as c:
        r = c.get(provider_redirect(to_provider(c)), follow_redirects=False)
        assert_error(r, 403, "USER_LIMIT_REACHED")


def test_logout_redirects_to_the_providers_end_session(
    app_env: Path, monkeypatch: pytest.MonkeyPatch, idp: RunningProvider
) -> None:
    with start(monkeypatch, idp) as c:
        sso_login(c)
        r = c.post("/api/auth/logout")
        url = r.json()["redirectUrl"]
        assert url.startswith(f"{idp.issuer}/logout?")
        assert parse_qs(urlsplit(url).query) == {
            "client_id": [CLIENT_ID],
            "post_logout_redirect_uri": ["http://testserver/login"],
        }
        assert_error(c.get("/api/auth/session"), 401)
        # A password session's logout has nothing to redirect to.
        token = login(c, "admin", "admin")
        assert c.post("/api/auth/logout", headers=auth(token)).json() == {"ok": True}


def test_password_login_can_be_disabled(app_env: Path, monkeypatch: pytest.MonkeyPatch, idp: RunningProvider) -> None:
    with start(monkeypatch, idp, OIDC_DISABLE_PASSWORD_LOGIN="true", OIDC_BUTTON_LABEL="Sign in with Authentik") as c:
        assert c.get("/api/v1/config/auth").json()["oidc"] == {"enabled": True, "label": "Sign in with Authentik"}
        assert c.get("/api/v1/config/auth").json()["passwordLoginEnabled"] is False
        r = c.post("/api/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD})
        assert_error(r, 403, "PASSWORD_LOGIN_DISABLED")


def test_without_configuration_sso_is_off(client: TestClient) -> None:
    assert client.get("/api/v1/config/auth").json()["oidc"] == {"enabled": False, "label": ""}
    assert_error(client.get("/api/auth/oidc/login", follow_redirects=False), 404, "OIDC_NOT_CONFIGURED")
