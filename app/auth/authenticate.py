"""Resolves a request's credential (session token, cookie or API key) to a Principal."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from app.auth import invalidation as _invalidation  # noqa: F401 - registers the ORM hooks
from app.auth import key_usage, tokens
from app.auth.permissions import PERMISSIONS
from app.auth.principal import Principal
from app.auth.principal_cache import principals
from app.errors import AuthRequired
from app.models import ApiKey, Role, User, UserSession

SESSION_COOKIE = "lutra-session"


def role_permissions(db: Session, role_name: str) -> frozenset[str]:
    role = db.scalar(select(Role).where(Role.name == role_name))
    if role is None:
        return frozenset()
    return frozenset(p for p in role.permissions if p in PERMISSIONS)


def bearer_token(authorization: str | None, cookie: str | None) -> str | None:
    if authorization:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
    return cookie or None


def _principal(user: User, role_perms: list[str] | None, **kw: object) -> Principal:
    perms = frozenset(p for p in (role_perms or ()) if p in PERMISSIONS)
    key_perms = kw.pop("key_permissions", None)
    if key_perms is not None:
        perms = perms & frozenset(key_perms)  # type: ignore[arg-type]
    return Principal(
        user_id=user.id,
        username=user.username,
        role=user.role,
        permissions=perms,
        team_id=user.team_id,
        must_change_password=user.must_change_password,
        **kw,  # type: ignore[arg-type]
    )


# Every authenticated request reads its credential, user and role: one joined query, not three.
def _key_query() -> Select[tuple[ApiKey, User, list[str]]]:
    return (
        select(ApiKey, User, Role.permissions)
        .join(User, User.id == ApiKey.user_id)
        .outerjoin(Role, Role.name == User.role)
    )


def cached_principal(fingerprint: str, *, is_key: bool) -> Principal | None:
    """The principal of the credential with this fingerprint (tokens.hash_token) from the in-memory cache,
    or None (look it up with from_api_key or from_session_token). A key's use is noted either way."""
    principal = principals.get(fingerprint)
    if principal is not None and is_key and principal.api_key_id is not None:
        key_usage.note_used(principal.api_key_id)
    return principal


def from_api_key(db: Session, raw: str) -> Principal:
    if not tokens.looks_like_api_key(raw):
        raise AuthRequired("Invalid API key", code="INVALID_API_KEY")
    fingerprint = tokens.hash_token(raw)
    principal = principals.get(fingerprint)
    if principal is None:
        generation = principals.generation
        principal, expires_at = _api_key_principal(db, raw)
        principals.put(fingerprint, principal, expires_at, generation)
    assert principal.api_key_id is not None
    key_usage.note_used(principal.api_key_id)
    return principal


def _api_key_principal(db: Session, raw: str) -> tuple[Principal, datetime | None]:
    row = None
    cached_id = tokens.verified_keys.get(raw)
    if cached_id is not None:
        row = db.execute(_key_query().where(ApiKey.id == cached_id)).first()
    if row is None:
        candidates = db.execute(_key_query().where(ApiKey.prefix == tokens.key_lookup_prefix(raw))).all()
        row = next((r for r in candidates if tokens.verify_api_key(raw, r[0].key_hash)), None)
        if row is None:
            raise AuthRequired("Invalid API key", code="INVALID_API_KEY")
        tokens.verified_keys.put(raw, row[0].id)
    key, user, role_perms = row
    if key.expires_at is not None and key.expires_at <= datetime.now(UTC):
        raise AuthRequired("API key expired", code="API_KEY_EXPIRED")
    principal = _principal(user, role_perms, via="api_key", api_key_id=key.id, key_permissions=key.permissions)
    return principal, key.expires_at


def from_session_token(db: Session, raw: str) -> Principal:
    fingerprint = tokens.hash_token(raw)
    principal = principals.get(fingerprint)
    if principal is not None:
        return principal
    generation = principals.generation
    found = db.execute(
        select(UserSession, User, Role.permissions)
        .join(User, User.id == UserSession.user_id)
        .outerjoin(Role, Role.name == User.role)
        .where(UserSession.token_hash == fingerprint)
    ).first()
    if found is None:
        raise AuthRequired("Invalid or expired session", code="AUTH_REQUIRED")
    row, user, role_perms = found
    if row.expires_at <= datetime.now(UTC):
        db.delete(row)
        db.commit()
        raise AuthRequired("Session expired", code="SESSION_EXPIRED")
    principal = _principal(
        user, role_perms, via="session", session_id=row.id, mfa_enrolment_required=row.mfa_enrolment_required
    )
    principals.put(fingerprint, principal, row.expires_at, generation)
    return principal


def open_principal(db: Session) -> Principal:
    """AUTH_ENABLED=false: every request acts as the first admin, with every permission."""
    user = db.scalar(select(User).where(User.role == "admin").order_by(User.created_at).limit(1))
    if user is None:
        user = db.scalar(select(User).order_by(User.created_at).limit(1))
    if user is None:
        raise AuthRequired("No user account exists")
    return Principal(
        user_id=user.id,
        username=user.username,
        role="admin",
        permissions=frozenset(PERMISSIONS),
        team_id=user.team_id,
        via="open",
    )
