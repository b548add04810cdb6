"""Request bodies of the auth and user routes."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

# One @, something on each side, no spaces or control characters: the provider verified the rest.
EMAIL_PATTERN = r"^[^@\s\x00-\x1f]+@[^@\s\x00-\x1f]+$"


class Body(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=False)


class LoginBody(Body):
    username: str = Field(min_length=1, max_length=255)
    password: str = Field(min_length=1, max_length=1024)


class ChangePasswordBody(Body):
    currentPassword: str = Field(min_length=1, max_length=1024)
    newPassword: str = Field(min_length=1, max_length=1024)


EMAIL_DESCRIPTION = "Email address; single sign-on links to it when the oidcLinkByEmail setting is on"


class RegisterBody(Body):
    username: str = Field(min_length=1, max_length=255)
    password: str = Field(min_length=1, max_length=1024)
    role: str | None = Field(None, max_length=50)
    team: str | None = Field(None, max_length=100, description="Team name or id")
    email: str | None = Field(None, max_length=255, pattern=EMAIL_PATTERN, description=EMAIL_DESCRIPTION)


class UpdateUserBody(Body):
    role: str | None = Field(None, max_length=50)
    team: str | None = Field(None, max_length=100, description="Team name or id")
    email: str | None = Field(None, max_length=255, pattern=EMAIL_PATTERN, description=EMAIL_DESCRIPTION)


class ResetPasswordBody(Body):
    newPassword: str = Field(min_length=1, max_length=1024)
