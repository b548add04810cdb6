"""Username and password rules, with SnapOtter's weak-password error body."""

from __future__ import annotations

import re
import unicodedata

from app.auth.passwords import MIN_PASSWORD_LENGTH
from app.errors import ValidationFailed

USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9._-]+$")


def check_username(username: str) -> str:
    if not 3 <= len(username) <= 50:
        raise ValidationFailed("Username must be between 3 and 50 characters", details={"username": "length 3-50"})
    if not USERNAME_PATTERN.match(username):
        raise ValidationFailed(
            "Username can only contain letters, numbers, dots, hyphens, and underscores",
            details={"username": "allowed: letters, digits, . - _"},
        )
    return username


def check_password(password: str) -> None:
    """Length is what makes a password strong (NIST SP 800-63B); no composition rules."""
    if any(unicodedata.category(c) == "Cc" for c in password):
        raise ValidationFailed(
            "Password must not contain control characters",
            details={"rule": "controlCharacter", "rules": ["controlCharacter"]},
        )
    if len(unicodedata.normalize("NFC", password)) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(
            f"Password must be at least {MIN_PASSWORD_LENGTH} characters",
            details={"rule": "minLength", "rules": ["minLength"], "minLength": MIN_PASSWORD_LENGTH},
        )
