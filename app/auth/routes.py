"""/api/auth: login, logout, session, password changes and user management."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.audit.service import record
from app.auth import principal_cache, service
from app.auth.authenticate import SESSION_COOKIE, role_permissions
from app.auth.passwords import hash_password, verify_password
from app.auth.policy import check_password, check_username
from app.auth.principal import Principal
from app.auth.principal_cache import principals
from app.auth.schemas import ChangePasswordBody, LoginBody, RegisterBody, ResetPasswordBody, UpdateUserBody
from app.auth.session_cookie import open_session
from app.auth.throttle import login_throttle
from app.db import session_scope
from app.deps import (
    CurrentUserAllowingPasswordChange,
    SessionDep,
    SettingsDep,
    authenticated_even_if_must_change,
    client_ip,
    require,
)
from app.errors import AuthRequired, BadRequest, Conflict, Forbidden, TooManyRequests
from app.mfa import service as mfa
from app.models import Team, User, UserSession
from app.oidc.routes import sso_logout
from app.quotas import service as quotas
from app.settings.service import login_attempt_limit

router = APIRouter(prefix="/api/auth", tags=["auth"])
UserAdmin = Annotated[Principal, Depends(require("users:manage"))]
OK = {"ok": True}


@router.post("/login", summary="Log in with username and password; returns a session token")
def login(body: LoginBody, request: Request, response: Response, db: SessionDep, settings: SettingsDep) -> Any:
    if not settings.auth_enabled:
        raise Forbidden("Authentication is disabled", code="AUTH_DISABLED")
    if settings.oidc_enabled and settings.oidc_disable_password_login:
        raise Forbidden("Password login is disabled; sign in with single sign-on", code="PASSWORD_LOGIN_DISABLED")
    ip = client_ip(request)
    # PostgreSQL text cannot hold NUL and no stored credential contains one: such a login is just
    # wrong, and the name is cleaned before it reaches the throttle keys and the audit log.
    has_nul = "\x00" in body.username or "\x00" in body.password
    shown = body.username.replace("\x00", "")[:64]
    # Every attempt is counted before the password is checked (and taken back if it succeeds), so
    # a burst of parallel guesses cannot all slip past the limit while their hashes are computed.
    retry = login_throttle.begin(shown, ip, login_attempt_limit(db))
    if retry:
        record(db, "LOGIN_THROTTLED", actor_username=shown, ip=ip, details={"username": shown})
        db.commit()
        raise TooManyRequests(
            "Too many failed login attempts. Try again later.",
            code="LOGIN_THROTTLED",
            headers={"Retry-After": str(retry)},
            details={"retryAfter": retry},
        )
    user = None if has_nul else db.scalar(select(User).where(User.username == body.username))
    # verify_password runs a full argon2 check even for unknown users, so timing reveals nothing.
    ok = verify_password(body.password, user.password_hash if user else None)
    if user is None or not ok:
        record(
            db,
            "LOGIN_FAILED",
            actor_id=user.id if user else None,
            actor_username=shown,
            ip=ip,
            target_type="user",
            details={"username": shown, "reason": "bad_password" if user else "unknown_user"},
        )
        db.commit()
        raise AuthRequired("Invalid credentials", code="INVALID_CREDENTIALS")
    login_throttle.succeeded(shown, ip)
    if user.mfa_enabled:
        # The password was right; the session waits for the second factor (POST /api/auth/mfa/complete).
        challenge = mfa.start_challenge(db, user)
        who = {"actor_id": user.id, "actor_username": user.username, "target_type": "user", "target_id": user.id}
        record(db, "MFA_CHALLENGE_ISSUED", ip=ip, **who)
        return {"mfaRequired": True, "mfaToken": challenge}
    body = open_session(db, user, request, response, mfa_enrolment_required=mfa.enrolment_required(db, user))
    record(
        db,
        "LOGIN_SUCCESS",
        actor_id=user.id,
        actor_username=user.username,
        ip=ip,
        target_type="user",
        target_id=user.id,
    )
    return body


async def _caller_if_any(request: Request, settings: SettingsDep) -> Principal | None:
    try:
        return await authenticated_even_if_must_change(request, settings)
    except AuthRequired:
        return None


@router.post("/logout", summary="End the current session (redirectUrl: the SSO provider's logout, if any)")
def logout(request: Request, principal: Annotated[Principal | None, Depends(_caller_if_any)], db: SessionDep) -> Any:
    """Without a session (or with one already ended) it answers 200 too: logging out twice is not an error."""
    if principal is None:
        response = JSONResponse(OK)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response
    body: dict[str, Any] = dict(OK)
    if principal.session_id:
        row = db.get(UserSession, principal.session_id)
        if row is not None:
            if row.login_method == "oidc":
                body.update(sso_logout(request))
            db.delete(row)
    record(
        db,
        "LOGOUT",
        actor_id=principal.user_id,
        actor_username=principal.username,
        ip=client_ip(request),
        target_type="user",
        target_id=principal.user_id,
    )
    response = JSONResponse(body)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/session", summary="Validate the current credential and describe its user")
async def session(principal: CurrentUserAllowingPasswordChange) -> Any:
    # Scripts and the UI ask this often: the answer is kept with the credential cache's generation, so
    # any change to a user, key, session, role or team (which bumps it) makes it be built again.
    generation = principals.generation
    key = principal.credential_id
    kept = _session_views.get(key)
    if kept is not None and kept[0] == generation and time.monotonic() - kept[1] < principal_cache.TTL_S:
        return kept[2]
    body = await run_in_threadpool(_session_view, principal)  # one worker-thread hop, one query
    if len(_session_views) >= principal_cache.MAX_ENTRIES:
        _session_views.clear()
    _session_views[key] = (generation, time.monotonic(), body)
    return body


_session_views: dict[str, tuple[int, float, dict[str, Any]]] = {}


def _session_view(principal: Principal) -> dict[str, Any]:
    query = (
        select(User, Team.name, UserSession.expires_at, UserSession.login_method)
        .outerjoin(Team, Team.id == User.team_id)
        .outerjoin(UserSession, UserSession.id == (principal.session_id or ""))
        .where(User.id == principal.user_id)
    )
    with session_scope() as db:
        found = db.execute(query).first()
    view: dict[str, Any] = {}
    expires = None
    method = "local"
    if found is not None:
        user, team, expires_at, login_method = found
        # The credential's own permissions: an API key may carry fewer than its owner's role.
        view = service.view_of(user, team if team is not None else user.team_id, principal.permissions)
        expires = expires_at.isoformat() if expires_at else None
        method = login_method or method
    else:
        view["permissions"] = sorted(principal.permissions)
    view["loginMethod"] = "apikey" if principal.via == "api_key" else method
    body: dict[str, Any] = {"user": view, "expiresAt": expires}
    if principal.mfa_enrolment_required:
        body["mfaEnrolmentRequired"] = True
    return body


@router.post("/change-password", summary="Change your own password (ends other sessions, revokes API keys)")
def change_password(
    body: ChangePasswordBody, request: Request, principal: CurrentUserAllowingPasswordChange, db: SessionDep
) -> Any:
    check_password(body.newPassword)
    user = service.get_user(db, principal.user_id)
    if not verify_password(body.currentPassword, user.password_hash):
        raise AuthRequired("Current password is incorrect", code="INVALID_PASSWORD")
    if body.currentPassword == body.newPassword:
        raise BadRequest(
            "New password must differ from the current one",
            code="VALIDATION_ERROR",
            details={"newPassword": "same as current"},
        )
    user.password_hash = hash_password(body.newPassword)
    user.must_change_password = False
    service.end_sessions(db, user.id, except_session_id=principal.session_id)
    service.revoke_api_keys(db, user.id)
    record(
        db,
        "PASSWORD_CHANGED",
        actor_id=user.id,
        actor_username=user.username,
        ip=client_ip(request),
        target_type="user",
        target_id=user.id,
    )
    return OK


@router.get("/users", summary="List all users")
def list_users(_: UserAdmin, db: SessionDep) -> Any:
    users = db.scalars(select(User).order_by(User.created_at))
    return {"users": [service.list_view(db, u) for u in users]}


def _check_grantable(db: SessionDep, actor: Principal, role: str) -> None:
    """Nobody hands out a role that holds permissions they lack themselves."""
    if not role_permissions(db, role) <= actor.permissions:
        raise Forbidden("Cannot assign a role with more permissions than your own", code="ESCALATION_DENIED")


def _check_target(db: SessionDep, actor: Principal, target: User) -> None:
    """users:manage alone does not let a delegated manager demote, delete or reset an admin."""
    if not role_permissions(db, target.role) <= actor.permissions:
        raise Forbidden("Cannot manage a user with more permissions than your own", code="ESCALATION_DENIED")


@router.post("/register", status_code=201, summary="Create a user (must change password on first login)")
def register(body: RegisterBody, request: Request, actor: UserAdmin, db: SessionDep) -> Any:
    username = check_username(body.username)
    check_password(body.password)
    role = body.role or "user"
    if not service.role_exists(db, role):
        raise BadRequest(f"Unknown role: {role}", code="VALIDATION_ERROR", details={"role": "unknown role"})
    _check_grantable(db, actor, role)
    team = service.find_team(db, body.team) if body.team else service.find_team(db, service.DEFAULT_TEAM_ID)
    taken = db.scalar(select(User.id).where(func.lower(User.username) == username.lower()))
    if taken:
        raise Conflict("Username already exists", code="CONFLICT")
    service.check_user_limit(db)
    try:
        user = service.create_user(
            db, username, body.password, role, team.id, must_change=service.must_change_at_first_login()
        )
        user.email = body.email
    except IntegrityError:
        # Two registrations of one name raced past the check above; the unique index decided.
        raise Conflict("Username already exists", code="CONFLICT") from None
    record(
        db,
        "USER_CREATED",
        actor_id=actor.user_id,
        actor_username=actor.username,
        ip=client_ip(request),
        target_type="user",
        target_id=user.id,
        details={"newUsername": username, "role": role},
    )
    return {"id": user.id, "username": user.username, "role": user.role, "team": team.name}


@router.put("/users/{user_id}", summary="Change a user's role or team")
def update_user(user_id: str, body: UpdateUserBody, request: Request, actor: UserAdmin, db: SessionDep) -> Any:
    user = service.get_user(db, user_id)
    _check_target(db, actor, user)
    changes: dict[str, str] = {}
    if body.role is not None and body.role != user.role:
        if not service.role_exists(db, body.role):
            raise BadRequest(f"Unknown role: {body.role}", code="VALIDATION_ERROR", details={"role": "unknown role"})
        _check_grantable(db, actor, body.role)
        if user.id == actor.user_id and user.role == "admin":
            raise BadRequest("Cannot remove your own admin role", code="SELF_DEMOTE")
        if user.role == "admin" and service.admin_count(db) <= 1:
            raise BadRequest("Cannot demote the last admin", code="LAST_ADMIN")
        user.role = body.role
        changes["role"] = body.role
        # New permissions take effect at once: the user logs in again.
        service.end_sessions(db, user.id)
    if body.team is not None:
        team = service.find_team(db, body.team)
        user.team_id = team.id
        changes["team"] = team.name
    if body.email is not None:
        user.email = body.email
        changes["email"] = body.email
    record(
        db,
        "USER_UPDATED",
        actor_id=actor.user_id,
        actor_username=actor.username,
        ip=client_ip(request),
        target_type="user",
        target_id=user.id,
        details={"changes": changes},
    )
    return OK


@router.delete("/users/{user_id}", summary="Delete a user")
def delete_user(user_id: str, request: Request, actor: UserAdmin, db: SessionDep) -> Any:
    user = service.get_user(db, user_id)
    if user.id == actor.user_id:
        raise BadRequest("Cannot delete your own account", code="SELF_DELETE")
    _check_target(db, actor, user)
    if user.role == "admin" and service.admin_count(db) <= 1:
        raise BadRequest("Cannot delete the last admin", code="LAST_ADMIN")
    service.revoke_api_keys(db, user.id)
    service.end_sessions(db, user.id)
    quotas.forget(db, "user", user.id)
    db.delete(user)
    record(
        db,
        "USER_DELETED",
        actor_id=actor.user_id,
        actor_username=actor.username,
        ip=client_ip(request),
        target_type="user",
        target_id=user_id,
        details={"deletedUsername": user.username},
    )
    return OK


@router.post("/users/{user_id}/reset-password", summary="Set a new temporary password for a user")
def reset_password(user_id: str, body: ResetPasswordBody, request: Request, actor: UserAdmin, db: SessionDep) -> Any:
    check_password(body.newPassword)
    user = service.get_user(db, user_id)
    _check_target(db, actor, user)
    user.password_hash = hash_password(body.newPassword)
    user.must_change_password = service.must_change_at_first_login()
    service.end_sessions(db, user.id)
    service.revoke_api_keys(db, user.id)
    record(
        db,
        "PASSWORD_RESET",
        actor_id=actor.user_id,
        actor_username=actor.username,
        ip=client_ip(request),
        target_type="user",
        target_id=user.id,
        details={"targetUsername": user.username},
    )
    return OK
