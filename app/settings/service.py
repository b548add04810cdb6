"""Runtime key-value settings stored in the database (read by users, written by admins).

Values are stored and served as strings, as SnapOtter's clients expect ("true", "5", '["resize"]');
the typed accessors below parse the known keys.
"""

from __future__ import annotations

import json
import re
import unicodedata
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import get_settings
from app.errors import ValidationFailed
from app.models import Setting

KEY_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,99}$")
WHOLE_NUMBER = re.compile(r"^[0-9]{1,6}$")
HTML_TAG = re.compile(r"<[a-z/!?][^>]*>", re.IGNORECASE)
MAX_VALUE_CHARS = 64 * 1024


def _defaults() -> dict[str, str]:
    return {
        "disabledTools": "[]",
        "enableExperimentalTools": "false",
        "loginAttemptLimit": str(get_settings().login_attempt_limit),
    }


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _parse_tool_list(text: str) -> list[str]:
    try:
        value = json.loads(text) if text.strip() else []
    except json.JSONDecodeError:
        value = None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValidationFailed(
            "disabledTools must be a JSON array of tool ids", details={"disabledTools": "expected string[]"}
        )
    return value


def _normalise_known(key: str, text: str) -> str:
    if key == "disabledTools":
        return json.dumps(sorted(set(_parse_tool_list(text))))
    if key == "enableExperimentalTools":
        if text.lower() not in ("true", "false"):
            raise ValidationFailed(
                "enableExperimentalTools must be true or false",
                details={"enableExperimentalTools": "expected boolean"},
            )
        return text.lower()
    if key == "loginAttemptLimit":
        # ASCII digits only: str.isdigit() accepts "²", which int() then rejects.
        if not WHOLE_NUMBER.match(text) or not 1 <= int(text) <= 1000:
            raise ValidationFailed(
                "loginAttemptLimit must be a whole number from 1 to 1000",
                details={"loginAttemptLimit": "expected integer 1-1000"},
            )
        return str(int(text))
    if key in BOOLEAN_KEYS:
        if text.lower() not in ("true", "false"):
            raise ValidationFailed(f"{key} must be true or false", details={key: "expected boolean"})
        return text.lower()
    if key in TEXT_CHECKS:
        return TEXT_CHECKS[key](text)
    if key == "storageQuotaMb":
        # Per-user library quota in MB; 0 means unlimited.
        if not WHOLE_NUMBER.match(text):
            raise ValidationFailed(
                "storageQuotaMb must be a whole number of megabytes (0 = unlimited)",
                details={"storageQuotaMb": "expected integer 0-999999"},
            )
        return str(int(text))
    return text


def _app_name(text: str) -> str:
    text = text.strip()
    if not 1 <= len(text) <= 60 or any(unicodedata.category(c) == "Cc" for c in text):
        raise ValidationFailed("appName must be 1-60 characters, no control characters", details={"appName": "1-60"})
    return text


def _accent_color(text: str) -> str:
    # Only #rrggbb: the value goes into the UI's style, so nothing but a colour may pass.
    if not ACCENT_COLOR.match(text):
        raise ValidationFailed("accentColor must be a #rrggbb colour", details={"accentColor": "expected #rrggbb"})
    return text.lower()


# Boolean keys read by the accounts code: requireMfa (every user enrols a second factor) and
# oidcLinkByEmail (an SSO login with a verified email joins the local account with that email).
BOOLEAN_KEYS = ("requireMfa", "oidcLinkByEmail")
TEXT_CHECKS = {"appName": _app_name, "accentColor": _accent_color}
ACCENT_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")


def validate(key: Any, value: Any) -> str:
    if not isinstance(key, str) or not KEY_PATTERN.match(key):
        shown = str(key)[:100]
        raise ValidationFailed(f"Invalid setting key: {shown!r}", details={shown: "invalid key"})
    if value is None:
        raise ValidationFailed(f"Setting {key!r} needs a value", details={key: "null not allowed"})
    text = _as_text(value)
    if len(text) > MAX_VALUE_CHARS:
        raise ValidationFailed("Setting value too large", details={key: "over 64 KB"})
    if "\x00" in text:
        raise ValidationFailed(f"Setting {key!r} must not contain NUL characters", details={key: "NUL character"})
    if HTML_TAG.search(key) or HTML_TAG.search(text):
        raise ValidationFailed("Settings keys and values must not contain HTML tags", details={key: "html"})
    return _normalise_known(key, text)


def get_all(db: Session) -> dict[str, str]:
    values = _defaults()
    for row in db.scalars(select(Setting)):
        values[row.key] = row.value
    return values


def get_row(db: Session, key: str) -> Setting | None:
    # Only well-formed keys can have been stored; others (NUL, which PostgreSQL rejects) are never looked up.
    return db.get(Setting, key) if KEY_PATTERN.match(key) else None


def get_text(db: Session, key: str) -> str | None:
    row = get_row(db, key)
    return row.value if row is not None else _defaults().get(key)


# Bumped on every write, so in-process caches of settings (the tool catalog's visibility) drop at once.
_version = 0


def version() -> int:
    return _version


def put_many(db: Session, values: dict[str, Any], actor_id: str | None) -> list[str]:
    """Validates every pair first, then writes them all; returns the keys written."""
    global _version
    clean = {key: validate(key, value) for key, value in values.items()}
    _version += 1
    for key, text in clean.items():
        row = db.get(Setting, key)
        if row is None:
            db.add(Setting(key=key, value=text, updated_by=actor_id))
        else:
            row.value = text
            row.updated_by = actor_id
    db.flush()
    return list(clean)


# Typed accessors for the keys the code reads.


def disabled_tools(db: Session) -> set[str]:
    try:
        return set(_parse_tool_list(get_text(db, "disabledTools") or "[]"))
    except ValidationFailed:
        return set()


def experimental_enabled(db: Session) -> bool:
    return (get_text(db, "enableExperimentalTools") or "false").lower() == "true"


def login_attempt_limit(db: Session) -> int:
    text = get_text(db, "loginAttemptLimit") or ""
    return int(text) if WHOLE_NUMBER.match(text) and int(text) > 0 else get_settings().login_attempt_limit


def storage_quota_bytes(db: Session) -> int | None:
    """The per-user library quota (storageQuotaMb), or None when unlimited."""
    text = get_text(db, "storageQuotaMb") or ""
    return int(text) * 1024 * 1024 if WHOLE_NUMBER.match(text) and int(text) > 0 else None


def _flag(db: Session, key: str) -> bool:
    return (get_text(db, key) or "false").lower() == "true"


def require_mfa_setting(db: Session) -> bool:
    return _flag(db, "requireMfa")


def oidc_link_by_email(db: Session) -> bool:
    return _flag(db, "oidcLinkByEmail")
