"""Request bodies of the auth and user routes."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Body(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=False)


class LoginBody(Body):
    username: str = Field(min_length=1, max_length=255)
    password: str = Field(min_length=1, max_length=1024)


class ChangePasswordBody(Body):
    currentPassword: str = Field(min_length=1, max_length=1024)
    newPassword: str = Field(min_length=1, max_length=1024)


class RegisterBody(Body):
    username: str = Field(min_length=1, max_length=255)
    password: str = Field(min_length=1, max_length=1024)
    role: str | None = Field(None, max_length=50)
    team: str | None = Field(None, max_length=100, description="Team name or id")


class UpdateUserBody(Body):
    role: str | None = Field(None, max_length=50)
    team: str | None = Field(None, max_length=100, description="Team name or id")


class ResetPasswordBody(Body):
    newPassword: str = Field(min_length=1, max_length=1024)
