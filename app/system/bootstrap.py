"""First-start data: built-in roles, the Default team and the initial admin account."""

from __future__ import annotations

import logging

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.auth.permissions import BUILTIN_ROLES
from app.auth.service import DEFAULT_TEAM_ID, DEFAULT_TEAM_NAME, create_user
from app.config import Settings
from app.models import Role, Team, User

log = logging.getLogger("lutra")


def ensure_builtin_roles(db: Session) -> None:
    for name, spec in BUILTIN_ROLES.items():
        role = db.scalar(select(Role).where(Role.name == name))
        if role is None:
            db.add(
                Role(
                    id=f"builtin-{name}",
                    name=name,
                    description=str(spec["description"]),
                    permissions=list(spec["permissions"]),  # type: ignore[call-overload]
                    is_builtin=True,
                )
            )
        else:
            # Built-ins follow the code: a new release may add permissions to them.
            role.permissions = list(spec["permissions"])  # type: ignore[call-overload]
            role.is_builtin = True


def ensure_default_team(db: Session) -> None:
    if db.get(Team, DEFAULT_TEAM_ID) is None:
        db.add(Team(id=DEFAULT_TEAM_ID, name=DEFAULT_TEAM_NAME, is_default=True))


def ensure_first_admin(db: Session, settings: Settings) -> None:
    if (db.scalar(select(func.count()).select_from(User)) or 0) > 0:
        return
    create_user(
        db,
        settings.default_username,
        settings.default_password,
        "admin",
        DEFAULT_TEAM_ID,
        must_change=not settings.skip_must_change_password,
    )
    log.warning("Created the first account %r (password from DEFAULT_PASSWORD)", settings.default_username)


def bootstrap(db: Session, settings: Settings) -> None:
    ensure_builtin_roles(db)
    ensure_default_team(db)
    db.flush()
    ensure_first_admin(db, settings)
