"""A tool that exists only for the AI platform tests (loaded through TOOL_MODULES).

It needs the model "demo-model" of the bundle "demo", which only the tests' AI_MANIFEST defines, and
runs it through Lutra's ONNX session cache in a worker process, like every AI tool does.
"""

from __future__ import annotations

from app.engine.ai import bundles
from app.engine.tool import Inputs, NoSettings, ToolContext, ToolResult, tool


@tool(
    id="test-ai-double",
    section="image",
    title="Double (AI test)",
    description="Runs the demo model (y = 2x) on the image's mean colour.",
    inputs=Inputs(kinds=("png",)),
    feature="demo",
    models=("demo-model",),
)
def run(ctx: ToolContext, settings: NoSettings) -> ToolResult:
    import numpy as np
    import pyvips

    from app.engine.media import onnx

    image = pyvips.Image.new_from_file(str(ctx.input.path))
    means = [image.extract_band(i).avg() for i in range(3)]
    path = bundles.model_path("demo-model", "demo")
    session = onnx.session(path)
    (doubled,) = session.run(None, {"x": np.array([means], dtype=np.float32)})
    out = ctx.output_path("result.json")
    out.write_text("{}")
    return ToolResult([out], {"mean": means, "doubled": doubled[0].tolist(), "providers": session.get_providers()})
