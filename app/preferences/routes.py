"""/api/v1/user/preferences: what the browser UI remembers for a user (favourite and recent tools,
theme, language), on the server so it follows the user from browser to browser."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.config import LOCALES
from app.deps import CurrentUser, SessionDep
from app.engine import registry
from app.models import UserPreferences

router = APIRouter(prefix="/api/v1/user/preferences", tags=["auth"])

DEFAULTS: dict[str, Any] = {"favourites": [], "recent": [], "theme": "system", "locale": None}


def _known_tools(value: list[str]) -> list[str]:
    unknown = [t for t in value if registry.get(t) is None]
    if unknown:
        raise ValueError(f"unknown tool id {unknown[0][:64]!r}")
    return list(dict.fromkeys(value))  # duplicates dropped, order kept


class PreferencesBody(BaseModel):
    """Fields sent replace the stored ones; fields left out keep their value."""

    model_config = ConfigDict(extra="forbid")
    favourites: list[str] | None = Field(None, max_length=200, description="Tool ids, in the user's order")
    recent: list[str] | None = Field(None, max_length=20, description="Recently used tool ids, newest first")
    theme: Literal["system", "light", "dark"] | None = None
    locale: Literal[LOCALES] | None = Field(None, description="Interface language; null follows the browser")  # type: ignore[valid-type]

    @field_validator("favourites", "recent")
    @classmethod
    def _tools(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else _known_tools(value)


def _view(row: UserPreferences | None) -> dict[str, Any]:
    return {**DEFAULTS, **(row.data if row else {})}


@router.get("", summary="Your interface preferences (favourite and recent tools, theme, language)")
def get_preferences(principal: CurrentUser, db: SessionDep) -> Any:
    return _view(db.get(UserPreferences, principal.user_id))


@router.put("", summary="Change your interface preferences; fields left out keep their value")
def put_preferences(body: PreferencesBody, principal: CurrentUser, db: SessionDep) -> Any:
    row = db.get(UserPreferences, principal.user_id)
    if row is None:
        row = UserPreferences(user_id=principal.user_id, data={})
        db.add(row)
    changed = body.model_dump(exclude_unset=True)
    for key in ("favourites", "recent"):
        if key in changed and changed[key] is None:
            changed[key] = []
    # A new dict, so SQLAlchemy sees the JSON column change.
    row.data = {**row.data, **changed}
    db.flush()
    return _view(row)
