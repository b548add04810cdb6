"""Request bodies of /api/v1/automations (camelCase, as the rest of the API)."""

from __future__ import annotations

import string
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from app.pipelines.routes import StepBody

NAMING_FIELDS = {"stem", "tool", "ext", "name"}


class SourceBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["folder"] = "folder"
    path: str = Field(min_length=1, max_length=1024, description="Absolute, or relative to WATCH_ROOT")


class OutputBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    path: str = Field(min_length=1, max_length=1024, description="Absolute, or relative to WATCH_ROOT")
    naming: str = Field(
        "{stem}_{tool}.{ext}",
        min_length=1,
        max_length=200,
        description="Result file name: {stem} and {name} of the input, {tool} the last step's tool id, {ext}",
    )
    onConflict: Literal["suffix", "overwrite", "skip"] = "suffix"

    @field_validator("naming")
    @classmethod
    def _naming(cls, value: str) -> str:
        if "/" in value or "\\" in value or "\x00" in value or ".." in value:
            raise ValueError("must be a file name, without '/', '\\' or '..'")
        try:
            fields = {f for _, f, _, _ in string.Formatter().parse(value) if f is not None}
        except ValueError as exc:
            raise ValueError(f"is not a valid pattern: {exc}") from exc
        unknown = fields - NAMING_FIELDS
        if unknown:
            raise ValueError(f"unknown placeholder {{{sorted(unknown)[0]}}}; use {{stem}}, {{name}}, {{tool}}, {{ext}}")
        return value


class FilterBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    globs: list[str] = Field(default_factory=lambda: ["*"], max_length=50)
    minAgeSeconds: int = Field(5, ge=0, le=86400, description="A file is taken once unchanged this long")

    @field_validator("globs")
    @classmethod
    def _globs(cls, value: list[str]) -> list[str]:
        for glob in value:
            if not glob or len(glob) > 200 or "/" in glob:
                raise ValueError("each glob is a file-name pattern such as '*.pdf' (no '/')")
        return value or ["*"]


def _check_cron(value: str | None) -> str | None:
    if value is None:
        return None
    from croniter import croniter

    if not croniter.is_valid(value):
        raise ValueError(f"{value!r} is not a valid cron expression (e.g. '0 2 * * *')")
    return value


class AutomationBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100)
    source: SourceBody
    pipelineId: str | None = Field(None, max_length=64)
    steps: list[StepBody] | None = Field(None, min_length=1, max_length=100)
    output: OutputBody
    afterSuccess: Literal["keep", "move", "delete"] = "keep"
    filter: FilterBody = Field(default_factory=FilterBody)
    trigger: Literal["watch", "schedule"] = "watch"
    schedule: str | None = Field(None, max_length=120, description="Cron expression, for trigger 'schedule'")
    enabled: bool = True

    @field_validator("schedule")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        return _check_cron(value)

    @model_validator(mode="after")
    def _consistent(self) -> AutomationBody:
        if (self.pipelineId is None) == (self.steps is None):
            raise ValueError("give either pipelineId or steps")
        if self.trigger == "schedule" and not self.schedule:
            raise ValueError("trigger 'schedule' needs a cron expression in schedule")
        return self


class AutomationPatch(BaseModel):
    """Every field optional; what is sent replaces what is stored."""

    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(None, min_length=1, max_length=100)
    source: SourceBody | None = None
    pipelineId: str | None = Field(None, max_length=64)
    steps: list[StepBody] | None = Field(None, min_length=1, max_length=100)
    output: OutputBody | None = None
    afterSuccess: Literal["keep", "move", "delete"] | None = None
    filter: FilterBody | None = None
    trigger: Literal["watch", "schedule"] | None = None
    schedule: str | None = Field(None, max_length=120)
    enabled: bool | None = None

    @field_validator("schedule")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        return _check_cron(value)

    @model_validator(mode="after")
    def _one_chain(self) -> AutomationPatch:
        if self.pipelineId is not None and self.steps is not None:
            raise ValueError("give either pipelineId or steps, not both")
        return self


def sent(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(exclude_unset=True)
