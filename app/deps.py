"""Dependencies every route uses: the database session, the caller, and permission checks."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session

from app.auth import authenticate as authn
from app.auth import tokens
from app.auth.principal import Principal
from app.auth.throttle import api_limiter
from app.config import Settings, get_settings
from app.db import request_session, session_scope
from app.errors import AuthRequired, Forbidden, TooManyRequests

# scope="function": the transaction commits when the handler returns, before the answer is sent. With
# the default ("request") it committed after the answer, so a client acting on the answer at once (log
# in, then fetch its session) could find nothing yet.
SessionDep = Annotated[Session, Depends(request_session, scope="function")]


async def current_settings() -> Settings:
    # async: FastAPI runs a plain-function dependency in a worker thread, a hop per request for a cached value.
    return get_settings()


SettingsDep = Annotated[Settings, Depends(current_settings)]


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
    try:
        principal = _from_credentials(request, db, settings, allow_cookie)
    except AuthRequired:
        _count_refusal(request, settings)
        raise
    # Hand the connection back to the pool now: an upload route streams its body next, and a
    # connection held through that is what drained the pool under load. Later queries take one anew.
    db.commit()
    return _admitted(request, principal, settings)


def _raw_credential(request: Request, allow_cookie: bool) -> str:
    raw = authn.bearer_token(
        request.headers.get("authorization"),
        request.cookies.get(authn.SESSION_COOKIE) if allow_cookie else None,
    )
    if raw is None:
        raise AuthRequired()
    return raw


def _from_credentials(request: Request, db: Session, settings: Settings, allow_cookie: bool) -> Principal:
    if not settings.auth_enabled:
        return authn.open_principal(db)
    raw = _raw_credential(request, allow_cookie)
    # Decided by the key's full shape, not just "si_": a random session token may start with it too.
    return authn.from_api_key(db, raw) if tokens.looks_like_api_key(raw) else authn.from_session_token(db, raw)


def _count_refusal(request: Request, settings: Settings) -> None:
    if settings.rate_limit_per_min > 0:
        # A 401 counts too, against the caller's address: guessing keys spends a budget.
        _apply_rate_limit(request, f"ip:{client_ip(request)}", settings.rate_limit_per_min)


def _admitted(request: Request, principal: Principal, settings: Settings) -> Principal:
    request.state.principal = principal
    if settings.rate_limit_per_min > 0:
        _apply_rate_limit(request, principal.credential_id, settings.rate_limit_per_min)
    return principal


def _looked_up(request: Request, settings: Settings) -> Principal:
    with session_scope() as db:
        return _from_credentials(request, db, settings, True)


# Lookups under way, by (event loop, credential fingerprint): a burst of requests with one credential
# that is not cached yet (a client's first 200 uploads at once, or the moment its entry expires) waits
# for one database lookup instead of making 200, each on a new worker thread.
_lookups: dict[tuple[int, str], asyncio.Future[Principal]] = {}


async def _look_up_once(request: Request, settings: Settings, fingerprint: str | None) -> Principal:
    if fingerprint is None:
        return await run_in_threadpool(_looked_up, request, settings)
    key = (id(asyncio.get_running_loop()), fingerprint)
    pending = _lookups.get(key)
    if pending is not None:
        return await asyncio.shield(pending)
    future: asyncio.Future[Principal] = asyncio.get_running_loop().create_future()
    _lookups[key] = future
    try:
        principal = await run_in_threadpool(_looked_up, request, settings)
    except BaseException as exc:
        future.set_exception(exc)
        future.exception()  # retrieved here: nobody else may be waiting for it
        raise
    finally:
        del _lookups[key]
    future.set_result(principal)
    return principal


async def credential_principal(request: Request, settings: Settings) -> Principal:
    """The principal the request's credential names: from the in-memory cache on the event loop when it is
    there (no thread, no database session), else looked up in a worker thread, once for all the requests
    that bring the same credential meanwhile. AuthRequired when there is none; nothing is counted."""
    if not settings.auth_enabled:
        return await _look_up_once(request, settings, None)
    raw = _raw_credential(request, True)
    fingerprint = tokens.hash_token(raw)
    principal = authn.cached_principal(fingerprint, is_key=tokens.looks_like_api_key(raw))
    return principal or await _look_up_once(request, settings, fingerprint)


async def current_principal(request: Request, settings: Settings) -> Principal:
    """The caller, rate-limited (an authenticated request costs what an anonymous one does when its
    credential is cached)."""
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    try:
        principal = await credential_principal(request, settings)
    except AuthRequired:
        _count_refusal(request, settings)
        raise
    return _admitted(request, principal, settings)


def _checked(principal: Principal) -> Principal:
    if principal.must_change_password:
        raise Forbidden("Password change required before continuing", code="MUST_CHANGE_PASSWORD")
    if principal.mfa_enrolment_required:
        raise Forbidden("Set up two-factor login before continuing", code="MFA_ENROLMENT_REQUIRED")
    return principal


async def authenticated_even_if_must_change(request: Request, settings: SettingsDep) -> Principal:
    """For the few routes a user with a temporary password may call (session, logout, change-password)."""
    return await current_principal(request, settings)


async def authenticated(request: Request, settings: SettingsDep) -> Principal:
    return _checked(await current_principal(request, settings))


CurrentUser = Annotated[Principal, Depends(authenticated)]
CurrentUserAllowingPasswordChange = Annotated[Principal, Depends(authenticated_even_if_must_change)]


LinkExpiry = Annotated[str | None, Query(description="Signed link: expiry (Unix seconds)", max_length=12)]
LinkSignature = Annotated[str | None, Query(description="Signed link: signature, as handed out in downloadUrl")]
# Checks a link's (exp, sig) against the route's path parameters.
LinkCheck = Callable[[dict[str, Any], str | None, str | None, Settings], bool]


def signed_link_or_user(check: LinkCheck) -> Callable[..., Any]:
    """Dependency factory for download routes: None when a valid signed link opens the file, else the
    caller (401 without credentials). A stale or forged link says so, so a script knows to ask again."""

    async def dependency(
        request: Request, settings: SettingsDep, exp: LinkExpiry = None, sig: LinkSignature = None
    ) -> Principal | None:
        if check(request.path_params, exp, sig, settings):
            return None
        try:
            return await authenticated(request, settings)
        except AuthRequired:
            if sig is not None:
                raise AuthRequired("Download link is invalid or expired", code="INVALID_DOWNLOAD_LINK") from None
            raise

    return dependency


def require(*permissions: str) -> Callable[..., Any]:
    """Dependency factory: the caller must hold every named permission (403 otherwise)."""

    async def check(principal: CurrentUser) -> Principal:  # async: no thread hop for a set lookup
        missing = [p for p in permissions if not principal.has(p)]
        if missing:
            raise Forbidden(f"Missing permission: {', '.join(missing)}")
        return principal

    check.__name__ = "require_" + "_".join(p.replace(":", "_") for p in permissions)
    return check
