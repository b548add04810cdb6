"""Accounts and sessions: login, logout, password changes, user management."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app.auth import tokens
from app.auth.authenticate import role_permissions
from app.auth.passwords import hash_password
from app.config import get_settings
from app.errors import Forbidden, NotFound, ValidationFailed
from app.models import ApiKey, Role, Team, User, UserSession

DEFAULT_TEAM_ID = "default-team-00000000"
DEFAULT_TEAM_NAME = "Default"


def create_session(
    db: Session,
    user: User,
    ip: str | None,
    user_agent: str | None,
    *,
    login_method: str = "local",
    mfa_enrolment_required: bool = False,
) -> tuple[str, datetime]:
    token = tokens.new_session_token()
    expires = datetime.now(UTC) + timedelta(hours=get_settings().session_duration_hours)
    db.add(
        UserSession(
            token_hash=tokens.hash_token(token),
            user_id=user.id,
            expires_at=expires,
            ip=ip,
            user_agent=(user_agent or "")[:255] or None,
            login_method=login_method,
            mfa_enrolment_required=mfa_enrolment_required,
        )
    )
    return token, expires


def end_sessions(db: Session, user_id: str, *, except_session_id: str | None = None) -> None:
    stmt = delete(UserSession).where(UserSession.user_id == user_id)
    if except_session_id is not None:
        stmt = stmt.where(UserSession.id != except_session_id)
    db.execute(stmt)


def revoke_api_keys(db: Session, user_id: str) -> None:
    # The cached credentials go when this commits (app.auth.invalidation).
    db.execute(delete(ApiKey).where(ApiKey.user_id == user_id))


def team_name(db: Session, team_id: str | None) -> str | None:
    if team_id is None:
        return None
    team = db.get(Team, team_id)
    return team.name if team else team_id


def storable(value: str) -> bool:
    """PostgreSQL text cannot hold NUL, so no stored id or name contains one: look such values up
    as "not found" on every database instead of letting PostgreSQL reject the query."""
    return "\x00" not in value


def find_team(db: Session, name_or_id: str) -> Team:
    team = None
    if storable(name_or_id):
        team = db.get(Team, name_or_id) or db.scalar(select(Team).where(func.lower(Team.name) == name_or_id.lower()))
    if team is None:
        raise ValidationFailed("Team not found", details={"team": "unknown team"})
    return team


def role_exists(db: Session, name: str) -> bool:
    return storable(name) and db.scalar(select(Role.id).where(Role.name == name)) is not None


def get_user(db: Session, user_id: str) -> User:
    user = db.get(User, user_id) if storable(user_id) else None
    if user is None:
        raise NotFound("User not found")
    return user


def admin_count(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(User).where(User.role == "admin")) or 0


def user_view(db: Session, user: User) -> dict[str, object]:
    return view_of(user, team_name(db, user.team_id), role_permissions(db, user.role))


def view_of(user: User, team: str | None, permissions: Iterable[str]) -> dict[str, object]:
    """A user as the API shows it, from what the caller already has (no query)."""
    return {
        "id": user.id,
        "username": user.username,
        "role": user.role,
        "mustChangePassword": user.must_change_password,
        "mfaEnabled": user.mfa_enabled,
        "authProvider": user.auth_provider,
        "permissions": sorted(permissions),
        "team": team,
        "teamName": team,
    }


def list_view(db: Session, user: User) -> dict[str, object]:
    return {
        "id": user.id,
        "username": user.username,
        "role": user.role,
        "team": team_name(db, user.team_id),
        "mustChangePassword": user.must_change_password,
        "mfaEnabled": user.mfa_enabled,
        "authProvider": user.auth_provider,
        "email": user.email,
        "createdAt": user.created_at.isoformat(),
    }


def check_user_limit(db: Session) -> None:
    """MAX_USERS: one more account would be over the limit (0 = unlimited)."""
    limit = get_settings().max_users
    if limit and (db.scalar(select(func.count()).select_from(User)) or 0) >= limit:
        raise Forbidden(f"User limit reached ({limit} accounts, see MAX_USERS)", code="USER_LIMIT_REACHED")


def must_change_at_first_login() -> bool:
    """New and reset passwords are temporary unless SKIP_MUST_CHANGE_PASSWORD is set."""
    return not get_settings().skip_must_change_password


def create_user(
    db: Session, username: str, password: str, role: str, team_id: str | None, *, must_change: bool
) -> User:
    user = User(
        username=username,
        password_hash=hash_password(password),
        role=role,
        team_id=team_id,
        must_change_password=must_change,
    )
    db.add(user)
    db.flush()
    return user
