"""/api/auth/mfa: TOTP two-factor login (enrol, confirm, the login's second step, recovery codes,
disable) and the administrators' reset for a locked-out user."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from app.audit.service import record
from app.auth import service as accounts
from app.auth.authenticate import role_permissions
from app.auth.principal import Principal
from app.auth.session_cookie import open_session
from app.auth.throttle import login_throttle
from app.deps import SessionDep, SettingsDep, authenticated_even_if_must_change, client_ip, require
from app.errors import AuthRequired, BadRequest, Forbidden, TooManyRequests
from app.mfa import service
from app.models import User
from app.settings.service import login_attempt_limit

router = APIRouter(prefix="/api/auth", tags=["auth"])
UserAdmin = Annotated[Principal, Depends(require("users:manage"))]


async def signed_in_or_enrolling(request: Request, settings: SettingsDep) -> Principal:
    """Any signed-in caller, including a session that may only enrol (MFA_ENROLMENT_REQUIRED); a
    temporary password is changed first."""
    principal = await authenticated_even_if_must_change(request, settings)
    if principal.must_change_password:
        raise Forbidden("Password change required before continuing", code="MUST_CHANGE_PASSWORD")
    return principal


Enrolling = Annotated[Principal, Depends(signed_in_or_enrolling)]


class CodeBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    code: str = Field(min_length=1, max_length=64, description="A current 6-digit TOTP code")


class CompleteBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    mfaToken: str = Field(min_length=1, max_length=128)
    code: str = Field(min_length=1, max_length=64, description="A TOTP code or one of the recovery codes")


def _audit(db: Session, action: str, request: Request, actor: User | Principal, target: User, **details: Any) -> None:
    record(
        db,
        action,
        actor_id=actor.id if isinstance(actor, User) else actor.user_id,
        actor_username=actor.username,
        ip=client_ip(request),
        target_type="user",
        target_id=target.id,
        details=details or None,
    )


def _count_attempt(db: Session, username: str, request: Request) -> tuple[str, str]:
    """Wrong codes count toward the login throttle, like wrong passwords: the attempt is recorded
    before the code is checked (and taken back when it is right)."""
    keys = (username, client_ip(request))
    retry = login_throttle.begin(*keys, login_attempt_limit(db))
    if retry:
        raise TooManyRequests(
            "Too many failed login attempts. Try again later.",
            code="LOGIN_THROTTLED",
            headers={"Retry-After": str(retry)},
            details={"retryAfter": retry},
        )
    return keys


def _attempt_succeeded(keys: tuple[str, str]) -> None:
    login_throttle.succeeded(*keys)


def _user(db: Session, principal: Principal) -> User:
    if principal.via == "open":
        raise Forbidden("Two-factor login needs AUTH_ENABLED=true", code="AUTH_DISABLED")
    return accounts.get_user(db, principal.user_id)


def _check_code(db: Session, request: Request, user: User, code: str) -> None:
    """A current TOTP code of `user`, or 401 INVALID_MFA_CODE (audited, throttled)."""
    keys = _count_attempt(db, user.username, request)
    if service.use_totp(db, user, code):
        _attempt_succeeded(keys)
        return
    _audit(db, "MFA_FAILED", request, user, user)
    db.commit()
    raise AuthRequired("Invalid or already used code", code="INVALID_MFA_CODE")


@router.post("/mfa/enroll", summary="Start two-factor enrolment: a new TOTP secret, its QR code and recovery codes")
def enroll(request: Request, principal: Enrolling, db: SessionDep) -> Any:
    user = _user(db, principal)
    if user.auth_provider != "local":
        raise BadRequest("Single sign-on accounts use the provider's second factor", code="MFA_NOT_AVAILABLE")
    body = service.begin_enrolment(db, user)
    _audit(db, "MFA_ENROLMENT_STARTED", request, principal, user)
    return body


@router.post("/mfa/verify", summary="Confirm enrolment with a current code; two-factor login is then on")
def verify(body: CodeBody, request: Request, principal: Enrolling, db: SessionDep) -> Any:
    user = _user(db, principal)
    if user.mfa_enabled:
        raise BadRequest("Two-factor login is already on", code="MFA_ALREADY_ENABLED")
    if not user.mfa_secret:
        raise BadRequest("Start with POST /api/auth/mfa/enroll", code="MFA_NOT_ENROLLED")
    _check_code(db, request, user, body.code)
    service.enable(db, user, principal.session_id)
    _audit(db, "MFA_ENABLED", request, principal, user)
    return {"ok": True, "mfaEnabled": True}


@router.post("/mfa/complete", summary="The login's second step: a TOTP or recovery code for the mfaToken")
def complete(body: CompleteBody, request: Request, response: Response, db: SessionDep) -> Any:
    challenge = service.find_challenge(db, body.mfaToken)
    user = accounts.get_user(db, challenge.user_id)
    keys = _count_attempt(db, user.username, request)
    method = "totp" if service.use_totp(db, user, body.code) else None
    if method is None and service.use_recovery_code(db, user.id, body.code):
        method = "recovery"
    if method is None:
        service.count_failure(db, challenge)
        _audit(db, "MFA_FAILED", request, user, user, step="login")
        db.commit()
        raise AuthRequired("Invalid or already used code", code="INVALID_MFA_CODE")
    if not service.spend_challenge(db, challenge):
        raise AuthRequired("The sign-in step has expired or was used; sign in again", code="MFA_TOKEN_INVALID")
    _attempt_succeeded(keys)
    answer = open_session(db, user, request, response)
    _audit(db, "LOGIN_SUCCESS", request, user, user, mfa=method)
    if method == "recovery":
        answer["recoveryCodesLeft"] = service.recovery_codes_left(db, user.id)
    return answer


@router.post("/mfa/recovery-codes", summary="Replace your recovery codes (needs a current code)")
def new_recovery_codes(body: CodeBody, request: Request, principal: Enrolling, db: SessionDep) -> Any:
    user = _user(db, principal)
    if not user.mfa_enabled:
        raise BadRequest("Two-factor login is off", code="MFA_NOT_ENABLED")
    _check_code(db, request, user, body.code)
    codes = service.issue_recovery_codes(db, user.id)
    _audit(db, "MFA_RECOVERY_CODES_RENEWED", request, principal, user)
    return {"recoveryCodes": codes}


@router.post("/mfa/disable", summary="Turn two-factor login off (needs a current code; ends other sessions)")
def disable(body: CodeBody, request: Request, principal: Enrolling, db: SessionDep) -> Any:
    user = _user(db, principal)
    if not user.mfa_enabled:
        raise BadRequest("Two-factor login is off", code="MFA_NOT_ENABLED")
    _check_code(db, request, user, body.code)
    service.clear(db, user, keep_session_id=principal.session_id)
    _audit(db, "MFA_DISABLED", request, principal, user)
    return {"ok": True, "mfaEnabled": False}


@router.post("/users/{user_id}/mfa/reset", summary="Clear a locked-out user's two-factor login (ends their sessions)")
def reset(user_id: str, request: Request, actor: UserAdmin, db: SessionDep) -> Any:
    user = accounts.get_user(db, user_id)
    if not role_permissions(db, user.role) <= actor.permissions:
        raise Forbidden("Cannot manage a user with more permissions than your own", code="ESCALATION_DENIED")
    service.clear(db, user, keep_session_id=actor.session_id if user.id == actor.user_id else None)
    _audit(db, "MFA_RESET", request, actor, user, targetUsername=user.username)
    return {"ok": True}
