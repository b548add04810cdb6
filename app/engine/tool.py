"""The tool contract: what a tool module declares, and what its run function receives and returns.

A tool is one module under app/tools/<section>/ that ends with a `@tool(...)` decorated run function:

    class Settings(ToolSettings):
        width: int | None = Field(None, ge=1, le=16384, description="Target width in pixels")

    @tool(id="resize", section="image", title="Resize", description="...", settings=Settings,
          inputs=Inputs(kinds=IMAGE_KINDS))
    def run(ctx: ToolContext, settings: Settings) -> ToolResult:
        out = ctx.output_path(ctx.input.stem + ".jpg")
        ...
        return ToolResult([out])

Importing the module registers the tool. This module imports neither FastAPI nor SQLAlchemy.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from app.engine.media.sniff import expand_kinds

SECTIONS = ("image", "video", "audio", "pdf", "files")
Section = Literal["image", "video", "audio", "pdf", "files"]


class ToolSettings(BaseModel):
    """Base of every tool's settings model: unknown keys are rejected so typos surface as 400s."""

    # defer_build: 240 settings models; each is built on its first use (a request, the catalog), not at start-up.
    model_config = ConfigDict(extra="forbid", populate_by_name=True, defer_build=True)


class NoSettings(ToolSettings):
    pass


class ToolFailure(Exception):
    """A tool's own, user-facing reason for failing (becomes 422 with this short message)."""


class InputRejected(Exception):
    """An input the tool can't take; carries the HTTP status the client gets (400/413/415)."""

    def __init__(self, message: str, status: int = 400, code: str = "INVALID_INPUT") -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code


class Cancelled(Exception):
    """Raised inside a run function when the job was canceled."""


@dataclass(frozen=True)
class ExtraPart:
    """A second, named upload a tool takes beside its main files (a mask, a watermark image)."""

    name: str
    kinds: tuple[str, ...]
    required: bool = True
    description: str = ""


@dataclass(frozen=True)
class Inputs:
    """Which uploads a tool accepts. `kinds` are content kinds detected from the bytes (see sniff.py);
    max_files=0 means the tool takes a JSON body and no upload; min_files=0 with max_files>0 means
    both: a JSON body (settings only) or a multipart upload."""

    kinds: tuple[str, ...] = ()
    min_files: int = 1
    max_files: int = 1
    extra: tuple[ExtraPart, ...] = ()
    # Files needed in all, optional extra parts counted: compare takes its second image either way.
    min_total: int = 1

    @property
    def chainable(self) -> bool:
        """Can run on one file alone: a pipeline step gets exactly one (the upload or the last output)."""
        return self.takes_files and max(self.min_files, self.min_total) <= 1 and not any(p.required for p in self.extra)

    @property
    def takes_files(self) -> bool:
        return self.max_files > 0


@dataclass(frozen=True)
class InputFile:
    path: Path
    name: str  # the uploaded name, sanitised, for output naming
    kind: str  # detected content kind, e.g. "jpeg", "png", "pdf"
    size: int

    @property
    def stem(self) -> str:
        return Path(self.name).stem or "file"


@dataclass
class ToolResult:
    outputs: list[Path]
    # Tool-specific fields merged into the JSON answer (e.g. `info`'s metadata).
    data: dict[str, Any] = field(default_factory=dict)


class ToolContext:
    """What a run function gets: its inputs, a folder for outputs, progress and cancellation."""

    def __init__(
        self,
        inputs: list[InputFile],
        extra: dict[str, InputFile],
        workdir: Path,
        report: Callable[[float, str | None], None] | None = None,
        is_cancelled: Callable[[], bool] | None = None,
    ) -> None:
        self.inputs = inputs
        self.extra = extra
        self.workdir = workdir
        self._report = report
        self._is_cancelled = is_cancelled
        # Progress may come from a helper thread too (app/engine/pacing.py); the report channel is one pipe.
        self._report_lock = threading.Lock()

    @property
    def input(self) -> InputFile:
        return self.inputs[0]

    def output_path(self, name: str) -> Path:
        """A path for an output file inside the job's output folder (names are flattened)."""
        safe = Path(name).name.replace("\x00", "") or "output"
        self.workdir.mkdir(parents=True, exist_ok=True)
        return self.workdir / safe

    def progress(self, percent: float, message: str | None = None) -> None:
        if self._report is not None:
            with self._report_lock:
                self._report(max(0.0, min(100.0, percent)), message)

    def cancelled(self) -> bool:
        return self._is_cancelled() if self._is_cancelled is not None else False

    def check_cancelled(self) -> None:
        if self.cancelled():
            raise Cancelled()


RunFunction = Callable[[ToolContext, Any], ToolResult]


def _actions_of(tool_id: str) -> list[Action]:
    from app.engine.registry import actions_of

    return actions_of(tool_id)


@dataclass(frozen=True)
class Action:
    """A tool's sub-route, POST <tool path>/<name>: same uploads, its own run function.

    returns="json" answers ToolResult.data as JSON (e.g. /inspect); returns="file" answers the first
    output file itself, with ToolResult.data as X-* headers (e.g. /preview).
    """

    tool_id: str
    name: str
    run: RunFunction
    summary: str
    settings: type[ToolSettings] | None = None  # None: the tool's own settings model
    returns: Literal["json", "file"] = "json"

    @property
    def lookup(self) -> bool:
        """True for a sub-route that looks at an input (page count, metadata, a page preview for the UI)
        rather than making a result someone asked for: its job is not counted as usage."""
        return self.name in LOOKUP_ACTIONS


LOOKUP_ACTIONS = frozenset({"info", "inspect", "preview"})


Validator = Callable[[InputFile], None]


@dataclass(frozen=True)
class Produces:
    """A format a tool converts into, for any-to-any conversion (app/convert): the output's content
    kind (sniff.py names), the settings that make it, and which input kinds it applies to (empty: all
    the tool takes). `several` marks outputs that may be many files (pages), so only a last step.
    `preference` breaks ties between equally short routes: lower wins."""

    to: str
    settings: dict[str, Any] = field(default_factory=dict, hash=False)
    from_kinds: tuple[str, ...] = ()
    several: bool = False
    preference: int = 50


@dataclass(frozen=True)
class Tool:
    id: str
    section: str
    title: str
    description: str
    settings: type[ToolSettings]
    inputs: Inputs
    run: RunFunction
    long: bool = False  # long tools answer 202 and report over SSE; fast ones answer 200 with the result
    experimental: bool = False
    formats: tuple[str, ...] = ()  # human-facing input formats, for search ("heic", "pdf")
    timeout_s: int | None = None  # overrides JOB_TIMEOUT_S
    # Local AI: the bundle this tool belongs to, and the models it cannot run without (ids from
    # app/engine/ai/manifest.json). Requests answer 501 FEATURE_NOT_INSTALLED while they are missing.
    feature: str | None = None
    models: tuple[str, ...] = ()
    # Checks the validated settings against what is installed before a job is accepted (a setting may
    # choose a model, e.g. a language); raises FeatureNotInstalled, so the request answers 501 at once.
    preflight: Callable[[Any], None] | None = None
    # What the tool converts into (see Produces); the any-to-any converter chains these.
    produces: tuple[Produces, ...] = ()
    # The catalog group a client shows the tool under (the seed's headings, e.g. "Format & Conversion").
    category: str | None = None
    # Its symbol id in the UI's SVG sprite; the registry fills both from app/engine/categories.py when unset.
    icon: str | None = None

    @property
    def path(self) -> str:
        return f"/api/v1/tools/{self.section}/{self.id}"

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "section": self.section,
            "title": self.title,
            "description": self.description,
            "long": self.long,
            "async": self.long,  # SnapOtter's name: answers 202 and runs as a job (false: 200 with the result)
            "experimental": self.experimental,
            "formats": list(self.formats),
            "feature": self.feature,
            "category": self.category,
            "icon": self.icon,
            # What it converts into (for any-to-any conversion): format, the settings that make it, from which inputs.
            "produces": [
                {"format": p.to, "settings": dict(p.settings), "from": list(p.from_kinds) or None}
                for p in self.produces
            ],
            "inputs": {
                "kinds": list(self.inputs.kinds),
                # The same, groups expanded to the detected kinds (library files carry theirs as `kind`).
                "accepts": expand_kinds(self.inputs.kinds),
                "minFiles": self.inputs.min_files,
                "maxFiles": self.inputs.max_files,
                "extra": [
                    {"name": p.name, "kinds": list(p.kinds), "required": p.required, "description": p.description}
                    for p in self.inputs.extra
                ],
                "jsonBody": not self.inputs.takes_files,
            },
            "settingsSchema": self.settings.model_json_schema(),
            "endpoint": self.path,
            "actions": [
                {"name": a.name, "summary": a.summary, "returns": a.returns, "endpoint": f"{self.path}/{a.name}"}
                for a in _actions_of(self.id)
            ],
        }


def tool(
    *,
    id: str,
    section: Section,
    title: str,
    description: str,
    settings: type[ToolSettings] = NoSettings,
    inputs: Inputs,
    long: bool = False,
    experimental: bool = False,
    formats: tuple[str, ...] = (),
    timeout_s: int | None = None,
    feature: str | None = None,
    models: tuple[str, ...] = (),
    preflight: Callable[[Any], None] | None = None,
    produces: tuple[Produces, ...] = (),
    category: str | None = None,
    icon: str | None = None,
) -> Callable[[RunFunction], RunFunction]:
    """Declares and registers a tool; decorate the module's run function with it."""

    def register_run(run: RunFunction) -> RunFunction:
        from app.engine.registry import register

        register(
            Tool(
                id=id,
                section=section,
                title=title,
                description=description,
                settings=settings,
                inputs=inputs,
                run=run,
                long=long,
                experimental=experimental,
                formats=formats,
                timeout_s=timeout_s,
                feature=feature,
                models=models,
                preflight=preflight,
                produces=produces,
                category=category,
                icon=icon,
            )
        )
        return run

    return register_run


def action(
    tool_id: str,
    name: str,
    *,
    summary: str,
    returns: Literal["json", "file"] = "json",
    settings: type[ToolSettings] | None = None,
) -> Callable[[RunFunction], RunFunction]:
    """Declares a sub-route of a tool registered earlier in the same module."""

    def register_run(run: RunFunction) -> RunFunction:
        from app.engine.registry import register_action

        register_action(
            Action(tool_id=tool_id, name=name, run=run, summary=summary, settings=settings, returns=returns)
        )
        return run

    return register_run
