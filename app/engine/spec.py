"""A job as data: what the runner hands to a worker process, and what comes back.

Everything here is plain and picklable, so a job can cross a process boundary (and later a queue).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class InputRef:
    path: str
    name: str
    kind: str
    size: int
    # Set when the content check (image header, media probe) is left to the worker that opens the
    # file anyway: the tool's accepted kinds, and MAX_MEGAPIXELS. None: already checked.
    check_accepted: tuple[str, ...] | None = None
    check_megapixels: int = 0


@dataclass
class Step:
    tool_id: str
    settings: dict[str, Any]
    action: str | None = None  # a tool's sub-route (e.g. "inspect") instead of its main run


@dataclass
class JobSpec:
    job_id: str
    steps: list[Step]  # one step for a tool job, several for a pipeline
    inputs: list[InputRef]
    workdir: str
    extra: dict[str, InputRef] = field(default_factory=dict)
    timeout_s: float = 600.0
    # Upload limits (bytes, megapixels) every intermediate file of a chain must meet as well (None: unchecked).
    step_limits: tuple[int, int] | None = None


@dataclass
class StepReport:
    step: int
    tool_id: str
    size: int


@dataclass
class Outcome:
    status: str  # completed | failed | canceled
    outputs: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    steps: list[StepReport] = field(default_factory=list)
    error: str | None = None
    # For input rejections found while running: the HTTP status and code the client should get.
    http_status: int = 422
    code: str = "PROCESSING_FAILED"
    # An input refused by the worker's header/probe check before any step ran (InputRef.check_accepted):
    # the request is refused as if the server had checked it, leaving no job behind.
    input_refused: bool = False
