"""A batch's job, created as soon as the request names its id (the `clientJobId` form field), so a
client can follow /api/v1/jobs/<clientJobId>/progress while its files are still uploading."""

from __future__ import annotations

import re
import shutil

from sqlalchemy.exc import IntegrityError

from app.engine.tool import Tool
from app.errors import BadRequest, Conflict, LutraError, ValidationFailed
from app.jobs.events import batch_event
from app.jobs.service import JobService

FIELD = "clientJobId"
_CLIENT_JOB_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def check_client_job_id(value: str) -> str:
    if not _CLIENT_JOB_ID.match(value):
        raise ValidationFailed(
            "clientJobId must be 1 to 64 letters, digits, '-' or '_'",
            details={FIELD: "1-64 characters of A-Z, a-z, 0-9, - and _"},
        )
    return value


class BatchIntake:
    """Tracks the id a batch runs under: the server's own, or the client's once its field arrives.

    The upload streams into the workspace of the server's id either way (the field may come after
    the first files); that folder is dropped when the batch ends under the client's id."""

    def __init__(self, service: JobService, user_id: str | None, tool: Tool | None) -> None:
        self.service = service
        self.user_id = user_id
        self.tool = tool
        self.upload_id = service.new_id()
        self.job_id = self.upload_id
        self.created = False

    async def on_field(self, name: str, value: str) -> None:
        if name != FIELD:
            return
        if self.created:
            raise BadRequest("clientJobId was sent twice", code="DUPLICATE_FIELD")
        job_id = check_client_job_id(value.strip())
        if self.service.workspace(job_id).exists():
            raise Conflict(f"Job id {job_id!r} is already in use", code="JOB_ID_TAKEN")
        try:
            await self.service.create(job_id, self.user_id, "batch", self.tool, {}, 0)
        except IntegrityError as exc:
            raise Conflict(f"Job id {job_id!r} is already in use", code="JOB_ID_TAKEN") from exc
        self.job_id, self.created = job_id, True
        self.service.bus.publish(job_id, batch_event(job_id, "processing", 0, 0, 0, None, message="Receiving files"))

    async def refused(self, exc: BaseException) -> None:
        """The request failed after its job was created: the job ends failed, saying why."""
        self.discard_upload()
        if not self.created:
            return
        if isinstance(exc, LutraError):
            await self.service.finish_failed(self.job_id, exc.message, {"code": exc.code})
        else:
            # Also when the client went away (the request task is being cancelled): finish apart from it.
            ending = self.service.finish_failed(self.job_id, "The upload did not complete", {"code": "UPLOAD_FAILED"})
            self.service.run_in_background(ending)

    def discard_upload(self) -> None:
        shutil.rmtree(self.service.workspace(self.upload_id), ignore_errors=True)

    def upload_done(self) -> None:
        """After the batch: the uploaded inputs under the server's id are no longer needed."""
        if self.upload_id != self.job_id:
            self.discard_upload()
