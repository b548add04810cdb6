"""More test-only tools for the engine tests (loaded with tests.engine_tools through TOOL_MODULES)."""

from __future__ import annotations

import os
import shutil
import time

from pydantic import Field

from app.engine.tool import Inputs, ToolContext, ToolFailure, ToolResult, ToolSettings, tool


class EchoSettings(ToolSettings):
    text: str = Field(..., min_length=1, max_length=1000)


@tool(
    id="test-echo",
    section="files",
    title="Echo",
    description="Takes a JSON body (no upload) and writes its text to a file.",
    settings=EchoSettings,
    inputs=Inputs(min_files=0, max_files=0),
)
def echo_run(ctx: ToolContext, settings: EchoSettings) -> ToolResult:
    out = ctx.output_path("echo.txt")
    out.write_text(settings.text, encoding="utf-8")
    return ToolResult([out], data={"length": len(settings.text)})


@tool(
    id="test-experimental",
    section="files",
    title="Experimental copy",
    description="Like test-copy, but only listed when enableExperimentalTools is on.",
    inputs=Inputs(kinds=("image",)),
    experimental=True,
)
def experimental_run(ctx: ToolContext, settings: ToolSettings) -> ToolResult:
    out = ctx.output_path(ctx.input.name)
    shutil.copyfile(ctx.input.path, out)
    return ToolResult([out])


class HalfWriteSettings(ToolSettings):
    then: str = Field("finish", pattern="^(finish|fail|crash)$", description="What follows the first half")
    gate: str = Field("", max_length=500, description="Waits for this file to exist before going on")


@tool(
    id="test-half-write",
    section="files",
    title="Half write",
    description="Writes half its output, waits for a gate file, then finishes, fails or crashes its process.",
    settings=HalfWriteSettings,
    inputs=Inputs(kinds=("image",)),
    long=True,
)
def half_write_run(ctx: ToolContext, settings: HalfWriteSettings) -> ToolResult:
    out = ctx.output_path("result.webm")
    with out.open("wb") as f:
        f.write(b"\x1a\x45\xdf\xa3 first half ")
        f.flush()
        ctx.progress(50, "half written")
        while settings.gate and not os.path.exists(settings.gate):
            ctx.check_cancelled()
            time.sleep(0.02)
        if settings.then == "crash":
            os._exit(9)  # the worker dies mid-write, as under kill -9
        if settings.then == "fail":
            raise ToolFailure("gave up half-way")
        f.write(b"second half")
    return ToolResult([out])
