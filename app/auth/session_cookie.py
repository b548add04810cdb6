"""Opens a login session and sets its cookie: shared by the password login, its two-factor step and
single sign-on."""

from __future__ import annotations

from typing import Literal

from fastapi import Request, Response
from sqlalchemy.orm import Session

from app.auth import service
from app.auth.authenticate import SESSION_COOKIE
from app.config import get_settings
from app.deps import client_ip
from app.models import User


def open_session(
    db: Session,
    user: User,
    request: Request,
    response: Response,
    *,
    method: str = "local",
    samesite: Literal["strict", "lax"] = "strict",
    mfa_enrolment_required: bool = False,
) -> dict[str, object]:
    """Creates the session row, sets the cookie and returns the login answer's body."""
    token, expires = service.create_session(
        db,
        user,
        client_ip(request),
        request.headers.get("user-agent"),
        login_method=method,
        mfa_enrolment_required=mfa_enrolment_required,
    )
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=get_settings().session_duration_hours * 3600,
        httponly=True,
        samesite=samesite,
        secure=request.url.scheme == "https",
        path="/",
    )
    body: dict[str, object] = {"token": token, "user": service.user_view(db, user), "expiresAt": expires.isoformat()}
    if mfa_enrolment_required:
        body["mfaEnrolmentRequired"] = True
    return body
