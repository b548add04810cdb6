"""/api/auth/oidc: single sign-on through any OpenID Connect provider (authorization code + PKCE)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from app.audit.service import record
from app.auth.session_cookie import open_session
from app.config import Settings, get_settings
from app.deps import SessionDep, SettingsDep, client_ip
from app.errors import LutraError, NotFound
from app.oidc import provider, service

router = APIRouter(prefix="/api/auth/oidc", tags=["auth"])


def _require_enabled(settings: Settings) -> None:
    if not (settings.auth_enabled and settings.oidc_enabled):
        raise NotFound("Single sign-on is not configured (OIDC_ISSUER_URL, OIDC_CLIENT_ID)", code="OIDC_NOT_CONFIGURED")


def redirect_uri(request: Request, settings: Settings) -> str:
    return settings.oidc_redirect_uri or str(request.url_for("oidc_callback"))


@router.get(
    "/login",
    summary="Start single sign-on: redirects to the identity provider",
    response_class=RedirectResponse,
    status_code=302,
)
def oidc_login(request: Request, db: SessionDep, settings: SettingsDep) -> Any:
    _require_enabled(settings)
    state, nonce, verifier = provider.new_login()
    url = provider.authorization_url(settings, redirect_uri(request, settings), state, nonce, verifier)
    # Stored server-side (not in a cookie): any API node behind the load balancer can finish the login.
    service.save_state(db, state, nonce, verifier)
    return RedirectResponse(url, status_code=302, headers={"Cache-Control": "no-store"})


def _failed(request: Request, error: LutraError) -> Any:
    """A browser arriving from the provider goes back to the login page with the reason; API clients
    get the usual error body."""
    if "text/html" in request.headers.get("accept", ""):
        return RedirectResponse(f"/login?ssoError={quote(error.code)}", status_code=303)
    raise error


@router.get(
    "/callback",
    name="oidc_callback",
    summary="The provider's redirect back: sets the session cookie and redirects to the UI",
    response_class=RedirectResponse,
    status_code=303,
)
def oidc_callback(
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    code: str = "",
    state: str = "",
    error: str = "",
) -> Any:
    _require_enabled(settings)
    ip = client_ip(request)
    try:
        login = service.take_state(db, state[:200])
        db.commit()  # the state is spent whatever happens next
        if error:
            raise provider.OidcError(f"The provider refused the sign-in: {error[:100]}", code="OIDC_DENIED")
        if not code:
            raise provider.OidcError("The provider sent no authorization code", code="OIDC_TOKEN_ERROR")
        claims = provider.exchange_code(
            settings, redirect_uri(request, settings), code[:2000], login.code_verifier, login.nonce
        )
        user, how = service.user_for(db, settings, claims)
    except LutraError as exc:
        db.rollback()
        record(db, "LOGIN_FAILED", ip=ip, details={"method": "oidc", "reason": exc.code})
        db.commit()
        return _failed(request, exc)
    if how == "created":
        details = {"newUsername": user.username, "role": user.role, "via": "oidc"}
        record(db, "USER_CREATED", actor_id=user.id, actor_username=user.username, ip=ip, details=details)
    response = RedirectResponse("/", status_code=303)
    # SameSite=Lax: the browser arrives here from the provider's site, and a Strict cookie set on a
    # cross-site navigation would not be sent with the UI's first requests.
    open_session(db, user, request, response, method="oidc", samesite="lax")
    details = {"method": "oidc", "account": how}
    record(db, "LOGIN_SUCCESS", actor_id=user.id, actor_username=user.username, ip=ip, details=details)
    return response


def sso_logout(request: Request) -> dict[str, str]:
    """For the logout answer of an SSO session: the provider's end_session_endpoint, when it has one."""
    settings = get_settings()
    if not settings.oidc_enabled:
        return {}
    url = provider.end_session_url(settings, str(request.base_url).rstrip("/") + "/login")
    return {"redirectUrl": url} if url else {}
