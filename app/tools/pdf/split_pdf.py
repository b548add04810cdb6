"""Split PDF: by page ranges (each comma-separated group is one file) or every N pages; ZIP out."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, model_validator

from app.engine.media import layout, pdf
from app.engine.tool import Inputs, ToolContext, ToolResult, ToolSettings, tool


class SplitPdfSettings(ToolSettings):
    mode: Literal["range", "every"] = Field(
        "every", description="range: one file per comma-separated group of `range`; every: a file every everyN pages"
    )
    range: str | None = Field(
        None, description="Range mode: qpdf page ranges, one output file per comma group, e.g. 1-3,4-6,7-z"
    )
    everyN: int = Field(1, ge=1, le=500, description="Every mode: pages per output file")

    @model_validator(mode="after")
    def _range_given(self) -> SplitPdfSettings:
        if self.mode == "range":
            if not self.range:
                raise ValueError("range mode needs a range, e.g. 1-3,4-z")
            pdf.check_page_spec(self.range)
        return self


def _groups(settings: SplitPdfSettings, count: int) -> list[list[int]]:
    if settings.mode == "every":
        n = settings.everyN
        return [list(range(i, min(i + n, count))) for i in range(0, count, n)]
    assert settings.range is not None
    return [pdf.parse_pages(part, count) for part in re.split(r"\s*,\s*", settings.range.strip()) if part]


@tool(
    id="split-pdf",
    section="pdf",
    title="Split PDF",
    description="Split a PDF every N pages or into the page ranges you list; one PDF per part, zipped when several.",
    settings=SplitPdfSettings,
    inputs=Inputs(kinds=("pdf",)),
    formats=("pdf",),
)
def run(ctx: ToolContext, settings: SplitPdfSettings) -> ToolResult:
    import pikepdf

    src = ctx.input
    with pdf.open_pdf(src) as doc:
        groups = _groups(settings, len(doc.pages))
        files = []
        parts = []
        width = max(2, len(str(len(groups))))
        for n, pages in enumerate(groups, 1):
            ctx.check_cancelled()
            part = pikepdf.new()
            with pdf.pdf_errors():
                part.pages.extend(doc.pages[i] for i in pages)
            name = f"{src.stem}_part{n:0{width}d}.pdf"
            files.append(pdf.save_pdf(part, ctx.output_path(name)))
            parts.append({"name": name, "pages": pdf.ranges_text(pages) if pages == sorted(pages) else None,
                          "pageCount": len(pages)})  # fmt: skip
            ctx.progress(90 * n / len(groups), "Splitting")
    if len(files) == 1:
        return ToolResult(files, {"parts": 1, "files": parts})
    archive = layout.zip_outputs(ctx, files, f"{src.stem}_split.zip")
    return ToolResult([archive], {"parts": len(files), "files": parts})
