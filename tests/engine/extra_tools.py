"""More test-only tools for the engine tests (loaded with tests.engine_tools through TOOL_MODULES)."""

from __future__ import annotations

import shutil

from pydantic import Field

from app.engine.tool import Inputs, ToolContext, ToolResult, ToolSettings, tool


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
