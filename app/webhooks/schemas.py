"""Request bodies of the webhook routes."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class CreateWebhookBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(max_length=2048, description="http(s) URL that receives the POSTs")
    events: list[str] = Field(description='Event types to receive; ["*"] means all', max_length=32)
    description: str = Field("", max_length=500)


class UpdateWebhookBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(None, max_length=2048)
    events: list[str] | None = Field(None, max_length=32)
    description: str | None = Field(None, max_length=500)
    enabled: bool | None = Field(None, description="true turns a webhook disabled after 24 h of failures on again")
