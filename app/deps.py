"""Dependencies every route uses: the database session, the caller, and permission checks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from sqlalchemy.orm import Session

from app.auth import authenticate as authn
from app.auth import tokens
from app.auth.principal import Principal
from app.auth.throttle import api_limiter
from app.config import Settings, get_settings
from app.db import request_session
from app.errors import AuthRequired, Forbidden, TooManyRequests

# scope="function": the transaction commits when the handler returns, before the answer is sent. With
# the default ("request") it committed after the answer, so a client acting on the answer at once (log
# in, then fetch its session) could find nothing yet.
SessionDep = Annotated[Session, Depends(request_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_settings)]


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _apply_rate_limit(request: Request, key: str, limit: int) -> None:
    allowed, remaining, reset, retry = api_limiter.hit(key, limit)
    headers = {
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": str(remaining),
        "X-RateLimit-Reset": str(reset),
    }
    # The rate-limit middleware copies these onto whatever response the route produces.
    request.state.rate_limit_headers = headers
    if not allowed:
        raise TooManyRequests("Rate limit exceeded, retry later", headers={**headers, "Retry-After": str(retry)})


def resolve_principal(request: Request, db: Session, settings: Settings, *, allow_cookie: bool = True) -> Principal:
    """The caller, rate-limited. allow_cookie=False (the MCP endpoint): only an Authorization header counts,
    so a web page can't make a signed-in browser call in with its cookie."""
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    if not settings.auth_enabled:
        principal = authn.open_principal(db)
    else:
        try:
            raw = authn.bearer_token(
                request.headers.get("authorization"),
                request.cookies.get(authn.SESSION_COOKIE) if allow_cookie else None,
            )
            if raw is None:
                raise AuthRequired()
            # Decided by the key's full shape, not just "si_": a random session token may start with it too.
            is_key = tokens.looks_like_api_key(raw)
            principal = authn.from_api_key(db, raw) if is_key else authn.from_session_token(db, raw)
        except AuthRequired:
            if settings.rate_limit_per_min > 0:
                # A 401 counts too, against the caller's address: guessing keys spends a budget.
                _apply_rate_limit(request, f"ip:{client_ip(request)}", settings.rate_limit_per_min)
            raise
    request.state.principal = principal
    # Hand the connection back to the pool now: an upload route streams its body next, and a
    # connection held through that is what drained the pool under load. Later queries take one anew.
    db.commit()
    if settings.rate_limit_per_min > 0:
        _apply_rate_limit(request, principal.credential_id, settings.rate_limit_per_min)
    return principal


def authenticated_even_if_must_change(request: Request, db: SessionDep, settings: SettingsDep) -> Principal:
    """For the few routes a user with a temporary password may call (session, logout, change-password)."""
    return resolve_principal(request, db, settings)


def authenticated(request: Request, db: SessionDep, settings: SettingsDep) -> Principal:
    principal = resolve_principal(request, db, settings)
    if principal.must_change_password:
        raise Forbidden("Password change required before continuing", code="MUST_CHANGE_PASSWORD")
    if principal.mfa_enrolment_required:
        raise Forbidden("Set up two-factor login before continuing", code="MFA_ENROLMENT_REQUIRED")
    return principal


CurrentUser = Annotated[Principal, Depends(authenticated)]
CurrentUserAllowingPasswordChange = Annotated[Principal, Depends(authenticated_even_if_must_change)]


LinkExpiry = Annotated[str | None, Query(description="Signed link: expiry (Unix seconds)", max_length=12)]
LinkSignature = Annotated[str | None, Query(description="Signed link: signature, as handed out in downloadUrl")]
# Checks a link's (exp, sig) against the route's path parameters.
LinkCheck = Callable[[dict[str, Any], str | None, str | None, Settings], bool]


def signed_link_or_user(check: LinkCheck) -> Callable[..., Principal | None]:
    """Dependency factory for download routes: None when a valid signed link opens the file, else the
    caller (401 without credentials). A stale or forged link says so, so a script knows to ask again."""

    def dependency(
        request: Request, db: SessionDep, settings: SettingsDep, exp: LinkExpiry = None, sig: LinkSignature = None
    ) -> Principal | None:
        if check(request.path_params, exp, sig, settings):
            return None
        try:
            return authenticated(request, db, settings)
        except AuthRequired:
            if sig is not None:
                raise AuthRequired("Download link is invalid or expired", code="INVALID_DOWNLOAD_LINK") from None
            raise

    return dependency


def require(*permissions: str) -> Callable[..., Principal]:
    """Dependency factory: the caller must hold every named permission (403 otherwise)."""

    def check(principal: CurrentUser) -> Principal:
        missing = [p for p in permissions if not principal.has(p)]
        if missing:
            raise Forbidden(f"Missing permission: {', '.join(missing)}")
        return principal

    check.__name__ = "require_" + "_".join(p.replace(":", "_") for p in permissions)
    return check
