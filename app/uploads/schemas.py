"""Request and response shapes of resumable uploads."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from app.files.schemas import FileOut


class CreateUploadBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    filename: str = Field(min_length=1, max_length=255)
    size: int = Field(ge=1, description="Total size in bytes; completion checks it")
    sha256: str | None = Field(None, pattern=r"^[0-9a-fA-F]{64}$", description="Hex SHA-256 of the whole file")
    contentType: str | None = Field(None, max_length=100)


class PartOut(BaseModel):
    partNumber: int
    size: int
    etag: str


class UploadOut(BaseModel):
    uploadId: str
    filename: str
    size: int
    sha256: str | None = None
    contentType: str | None = None
    partSize: int = Field(description="The size of every part but the last, which is the rest of the file")
    partCount: int = Field(description="Number of parts; part numbers run from 1 to partCount")
    partUrl: str
    createdAt: str
    expiresAt: str
    parts: list[PartOut] = Field(description="Parts received so far, by number")
    receivedBytes: int
    complete: bool


class ClaimedPart(BaseModel):
    partNumber: int
    etag: str = Field(max_length=70)


class CompleteBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    parts: list[ClaimedPart] | None = Field(
        None, max_length=10_000, description="Optional [{partNumber, etag}]: checked against the parts received"
    )


class UploadedFileOut(FileOut):
    sha256: str


class CompletedAnswer(BaseModel):
    file: UploadedFileOut


class AbortedAnswer(BaseModel):
    aborted: bool
    uploadId: str
