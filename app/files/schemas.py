"""Request and response shapes of the file library (camelCase, as the seed's clients expect)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class FileOut(BaseModel):
    id: str
    originalName: str
    mimeType: str
    kind: str | None = Field(None, description="The content type Lutra detected (png, pdf, mp4 ...)")
    size: int
    width: int | None = None
    height: int | None = None
    version: int
    parentId: str | None = None
    toolChain: list[str] = Field(default_factory=list, description="Tools applied since the first version")
    createdAt: str
    downloadUrl: str = Field(description="Signed link to the file's content, usable without credentials for 24 hours")


class FileOwner(BaseModel):
    id: str
    username: str


class ListedFile(FileOut):
    owner: FileOwner | None = Field(
        None, description="The file's owner; shown to callers with files:all (admins), null for everyone else"
    )


class FileVersion(FileOut):
    toolId: str | None = Field(None, description="The tool that made this version (null for uploads)")
    jobId: str | None = None


class FileList(BaseModel):
    files: list[ListedFile]
    total: int
    limit: int
    offset: int


class FilesAnswer(BaseModel):
    files: list[FileOut]


class FileDetail(BaseModel):
    file: ListedFile
    versions: list[FileVersion] = Field(description="The whole chain, oldest first")


class SaveResultBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    jobId: str = Field(max_length=128)
    filename: str | None = Field(None, max_length=255, description="Which output; default: the job's main output")
    parentId: str | None = Field(None, max_length=36, description="Save as the next version of this file's chain")


class SaveResultForm(BaseModel):
    """The multipart variant (SnapOtter's): the file itself rather than a job's output."""

    model_config = ConfigDict(extra="ignore")
    parentId: str | None = Field(None, max_length=36, description="Save as the next version of this file's chain")
    toolId: str | None = Field(
        None, max_length=64, pattern=r"^[a-z0-9][a-z0-9-]*$", description="The tool that made it (kept in toolChain)"
    )


class SavedAnswer(BaseModel):
    file: FileOut


class DeleteBody(BaseModel):
    ids: list[str] = Field(min_length=1, max_length=1000)


class DeletedAnswer(BaseModel):
    deleted: list[str] = Field(description="Ids of every version removed")
    count: int


class WorkspaceFile(BaseModel):
    name: str
    size: int
    format: str


class WorkspaceAnswer(BaseModel):
    jobId: str
    files: list[WorkspaceFile]
