"""Tools that exist only for the engine's tests (loaded through TOOL_MODULES, in server and workers)."""

from __future__ import annotations

import ctypes
import os
import shutil
import time

from pydantic import Field

from app.engine.tool import Inputs, ToolContext, ToolFailure, ToolResult, ToolSettings, action, tool


class SleepSettings(ToolSettings):
    seconds: float = Field(1.0, ge=0, le=60)
    steps: int = Field(10, ge=1, le=100)


@tool(
    id="test-sleep",
    section="files",
    title="Sleep",
    description="Waits, reporting progress.",
    settings=SleepSettings,
    inputs=Inputs(kinds=("image", "pdf", "zip")),
    long=True,
)
def sleep_run(ctx: ToolContext, settings: SleepSettings) -> ToolResult:
    for i in range(settings.steps):
        ctx.check_cancelled()
        time.sleep(settings.seconds / settings.steps)
        ctx.progress(100 * (i + 1) / settings.steps, f"step {i + 1}/{settings.steps}")
    out = ctx.output_path(ctx.input.name)
    shutil.copyfile(ctx.input.path, out)
    return ToolResult([out])


class HangSettings(ToolSettings):
    pid_file: str = Field("", alias="pidFile")


@tool(
    id="test-hang",
    section="files",
    title="Hang",
    description="Ignores cancellation (must be killed).",
    settings=HangSettings,
    inputs=Inputs(kinds=("image",)),
    long=True,
)
def hang_run(ctx: ToolContext, settings: HangSettings) -> ToolResult:
    if settings.pid_file:
        with open(settings.pid_file, "w") as f:
            f.write(str(os.getpid()))
    while True:
        time.sleep(0.05)
        ctx.progress(50, "hanging")


@tool(
    id="test-crash",
    section="files",
    title="Crash",
    description="Segfaults its process.",
    inputs=Inputs(kinds=("image",)),
)
def crash_run(ctx: ToolContext, settings: ToolSettings) -> ToolResult:
    ctypes.string_at(0)  # reads address 0: SIGSEGV
    raise AssertionError("unreachable")


@tool(
    id="test-fail",
    section="files",
    title="Fail",
    description="Fails with a user-facing reason.",
    inputs=Inputs(kinds=("image",)),
)
def fail_run(ctx: ToolContext, settings: ToolSettings) -> ToolResult:
    raise ToolFailure("this input has no pixels worth keeping")


@tool(
    id="test-copy",
    section="files",
    title="Copy",
    description="Returns its inputs unchanged.",
    inputs=Inputs(kinds=("image", "pdf"), max_files=3),
)
def copy_run(ctx: ToolContext, settings: ToolSettings) -> ToolResult:
    outs = []
    for f in ctx.inputs:
        out = ctx.output_path(f.name)
        shutil.copyfile(f.path, out)
        outs.append(out)
    return ToolResult(outs, data={"copied": len(outs)})


@action("test-copy", "inspect", summary="Sizes of the inputs")
def copy_inspect(ctx: ToolContext, settings: ToolSettings) -> ToolResult:
    return ToolResult([], data={"sizes": [f.size for f in ctx.inputs], "kinds": [f.kind for f in ctx.inputs]})


@action("test-copy", "preview", summary="The first input back, with its size as a header", returns="file")
def copy_preview(ctx: ToolContext, settings: ToolSettings) -> ToolResult:
    out = ctx.output_path("preview" + ctx.input.path.suffix)
    shutil.copyfile(ctx.input.path, out)
    return ToolResult([out], data={"originalSize": ctx.input.size})


class TextSettings(ToolSettings):
    text: str = Field("hello", max_length=100)


@tool(
    id="test-optional",
    section="files",
    title="Optional file",
    description="Text alone, or text and a file.",
    settings=TextSettings,
    inputs=Inputs(kinds=("image",), min_files=0, max_files=1),
)
def optional_run(ctx: ToolContext, settings: TextSettings) -> ToolResult:
    out = ctx.output_path("note.txt")
    out.write_text(f"{settings.text}:{len(ctx.inputs)}")
    return ToolResult([out])
