"""Single sign-on accounts: the login state kept server-side between redirect and callback, and the
Lutra user an ID token's claims stand for (found, linked by email, or created)."""

from __future__ import annotations

import logging
import re
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app.auth import service as accounts
from app.auth import tokens
from app.config import Settings
from app.models import OidcLoginState, User
from app.oidc.provider import OidcError
from app.settings.service import oidc_link_by_email

log = logging.getLogger("lutra")
STATE_TTL = timedelta(minutes=10)
_NOT_IN_USERNAME = re.compile(r"[^A-Za-z0-9._-]+")


def save_state(db: Session, state: str, nonce: str, verifier: str) -> None:
    now = datetime.now(UTC)
    db.execute(delete(OidcLoginState).where(OidcLoginState.expires_at <= now))
    db.add(
        OidcLoginState(
            state_hash=tokens.hash_token(state), nonce=nonce, code_verifier=verifier, expires_at=now + STATE_TTL
        )
    )


def take_state(db: Session, state: str) -> OidcLoginState:
    """The login that `state` started, removed so it cannot be finished twice."""
    row = db.get(OidcLoginState, tokens.hash_token(state)) if state else None
    if row is None or row.expires_at <= datetime.now(UTC):
        raise OidcError("Unknown or expired sign-in state; start the sign-in again", code="OIDC_STATE_INVALID")
    gone = db.execute(
        delete(OidcLoginState)
        .where(OidcLoginState.state_hash == row.state_hash)
        .execution_options(synchronize_session=False)
    )
    if gone.rowcount != 1:  # a parallel callback with the same state won
        raise OidcError("Unknown or expired sign-in state; start the sign-in again", code="OIDC_STATE_INVALID")
    return row


def _claim_values(claims: dict[str, Any], name: str) -> set[str]:
    value: Any = claims
    for part in name.split("."):  # nested claims such as realm_access.roles (Keycloak)
        value = value.get(part) if isinstance(value, dict) else None
    if isinstance(value, str):
        return {value}
    if isinstance(value, list):
        return {str(v) for v in value}
    return set()


def mapped_role(db: Session, settings: Settings, claims: dict[str, Any]) -> str:
    admin_values = {v.strip() for v in settings.oidc_admin_values.split(",") if v.strip()}
    if settings.oidc_role_claim and admin_values & _claim_values(claims, settings.oidc_role_claim):
        return "admin"
    role = settings.oidc_default_role
    if not accounts.role_exists(db, role):
        log.warning("OIDC_DEFAULT_ROLE %r does not exist; SSO users get the user role", role)
        role = "user"
    return role


def _free_username(db: Session, claims: dict[str, Any]) -> str:
    wanted = str(claims.get("preferred_username") or str(claims.get("email") or "").split("@")[0] or "sso-user")
    base = _NOT_IN_USERNAME.sub("-", wanted).strip("-.")[:40] or "sso-user"
    base = base if len(base) >= 3 else f"{base}-sso"
    name = base
    while db.scalar(select(User.id).where(func.lower(User.username) == name.lower())):
        name = f"{base}-{secrets.token_hex(3)}"
    return name


def _verified_email(claims: dict[str, Any]) -> str | None:
    email = claims.get("email")
    if isinstance(email, str) and "@" in email and claims.get("email_verified") is True:
        return email.strip()[:255]
    return None


def user_for(db: Session, settings: Settings, claims: dict[str, Any]) -> tuple[User, str]:
    """The account the claims stand for and how it was found: "existing", "linked" or "created"."""
    subject = f"{claims['iss']}|{claims['sub']}"[:255]
    email = _verified_email(claims)
    user = db.scalar(select(User).where(User.oidc_subject == subject))
    how = "existing"
    if user is None and email and oidc_link_by_email(db):
        user = db.scalar(select(User).where(func.lower(User.email) == email.lower(), User.oidc_subject.is_(None)))
        if user is not None:
            user.oidc_subject = subject
            how = "linked"
    if user is None:
        if not settings.oidc_auto_create_users:
            raise OidcError(
                "No Lutra account belongs to this sign-in; ask an administrator", code="OIDC_USER_NOT_FOUND", status=403
            )
        accounts.check_user_limit(db)
        user = User(
            username=_free_username(db, claims),
            password_hash="",  # no password: verify_password reads it as wrong
            role=mapped_role(db, settings, claims),
            team_id=accounts.DEFAULT_TEAM_ID,
            must_change_password=False,
            auth_provider="oidc",
            email=email,
            oidc_subject=subject,
        )
        db.add(user)
        db.flush()
        return user, "created"
    if email and not user.email:
        user.email = email
    _sync_role(db, settings, user, claims)
    return user, how


def _sync_role(db: Session, settings: Settings, user: User, claims: dict[str, Any]) -> None:
    """With OIDC_ROLE_CLAIM set, the provider's groups decide admin for SSO-created accounts at each login."""
    if not settings.oidc_role_claim or user.auth_provider != "oidc":
        return
    role = mapped_role(db, settings, claims)
    if role == user.role or (user.role != "admin" and role != "admin"):
        return  # only the admin grant follows the provider; other roles stay as set in Lutra
    if user.role == "admin" and accounts.admin_count(db) <= 1:
        log.warning("not demoting %r: the last admin", user.username)
        return
    user.role = role
