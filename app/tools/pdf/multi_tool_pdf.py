"""Multi-Tool PDF: one request applies a list of page operations in order (rotate, delete, reorder,
duplicate, insert blank, extract): the page organiser's whole edit in one go. Page numbers in each
operation refer to the document as the operations before it left it."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.engine.media import pdf
from app.engine.media.pdf import PageSpec
from app.engine.tool import InputRejected, Inputs, ToolContext, ToolResult, ToolSettings, tool


class _Op(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Rotate(_Op):
    op: Literal["rotate"]
    pages: PageSpec = Field("1-z", description="Pages to turn (qpdf syntax)")
    angle: Literal[90, 180, 270, -90] = Field(90, description="Clockwise degrees")


class Delete(_Op):
    op: Literal["delete"]
    pages: PageSpec = Field(description="Pages to remove")


class Reorder(_Op):
    op: Literal["reorder"]
    order: PageSpec = Field(description="Every page once, in the new order, e.g. 3,1,2 or z-1")


class Duplicate(_Op):
    op: Literal["duplicate"]
    pages: PageSpec = Field(description="Pages to copy; each copy follows its original")
    copies: int = Field(1, ge=1, le=100)


class InsertBlank(_Op):
    op: Literal["insert-blank"]
    after: int = Field(ge=0, description="Insert after this page (0: before the first)")
    count: int = Field(1, ge=1, le=100)
    width: float | None = Field(None, ge=36, le=14400, description="Points; default: the neighbouring page's size")
    height: float | None = Field(None, ge=36, le=14400, description="Points; default: the neighbouring page's size")


class Extract(_Op):
    op: Literal["extract"]
    pages: PageSpec = Field(description="Keep only these pages, in this order")


Operation = Annotated[Rotate | Delete | Reorder | Duplicate | InsertBlank | Extract, Field(discriminator="op")]


class MultiToolPdfSettings(ToolSettings):
    operations: list[Operation] = Field(
        min_length=1, max_length=500, description="Page operations, applied in order; page numbers count from 1"
    )


class _Doc:
    """The document's pages and, for each, the input page it came from (None for inserted blanks)."""

    def __init__(self, doc: object) -> None:
        self.doc = doc
        self.origin: list[int | None] = list(range(1, len(doc.pages) + 1))  # type: ignore[attr-defined]

    @property
    def pages(self):
        return self.doc.pages  # type: ignore[attr-defined]

    def select(self, spec: str) -> list[int]:
        return pdf.parse_pages(spec, len(self.pages))

    def rebuild(self, order: list[int]) -> None:
        """The pages become `order` (0-based, repeats copy the page): appended as copies, then the old ones go."""
        count = len(self.pages)
        chosen = [self.pages[i] for i in order]
        for page in chosen:
            self.pages.append(page)  # pikepdf copies a page that is already in the document
        del self.pages[:count]
        self.origin = [self.origin[i] for i in order]

    def blank(self, at: int, width: float, height: float) -> None:
        import pikepdf

        page = pikepdf.Dictionary(
            Type=pikepdf.Name.Page, MediaBox=[0, 0, width, height], Resources=pikepdf.Dictionary()
        )
        self.pages.insert(at, pikepdf.Page(self.doc.make_indirect(page)))  # type: ignore[attr-defined]
        self.origin.insert(at, None)


def _apply(state: _Doc, op: Rotate | Delete | Reorder | Duplicate | InsertBlank | Extract) -> None:
    count = len(state.pages)
    if isinstance(op, Rotate):
        for index in dict.fromkeys(state.select(op.pages)):
            state.pages[index].rotate(op.angle, relative=True)
    elif isinstance(op, Delete):
        gone = set(state.select(op.pages))
        if len(gone) == count:
            raise InputRejected("it would delete every page", 400, "NO_PAGES_LEFT")
        state.rebuild([i for i in range(count) if i not in gone])
    elif isinstance(op, Reorder):
        order = state.select(op.order)
        if sorted(order) != list(range(count)):
            raise InputRejected(
                f"the order must name each of the {count} pages exactly once (use extract to keep some)",
                400,
                "INVALID_ORDER",
            )
        state.rebuild(order)
    elif isinstance(op, Duplicate):
        copies = set(state.select(op.pages))
        state.rebuild([i for i in range(count) for _ in range(1 + (op.copies if i in copies else 0))])
    elif isinstance(op, Extract):
        state.rebuild(state.select(op.pages))
    else:
        if op.after > count:
            raise InputRejected(f"page {op.after} does not exist: the PDF has {count} pages", 400, "PAGE_OUT_OF_RANGE")
        x0, y0, x1, y1 = pdf.visible_box(state.pages[max(op.after - 1, 0)])
        for _ in range(op.count):
            state.blank(op.after, op.width or x1 - x0, op.height or y1 - y0)


@tool(
    id="multi-tool-pdf",
    section="pdf",
    title="Multi-Tool PDF",
    description=(
        "Organise pages in one go: rotate, delete, reorder, duplicate, insert blank pages and extract, "
        "applied in the order you list them."
    ),
    settings=MultiToolPdfSettings,
    inputs=Inputs(kinds=("pdf",)),
    formats=("pdf",),
)
def run(ctx: ToolContext, settings: MultiToolPdfSettings) -> ToolResult:
    limit = pdf.max_pages()
    with pdf.open_pdf(ctx.input) as doc, pdf.pdf_errors():
        state = _Doc(doc)
        total = len(settings.operations)
        for number, op in enumerate(settings.operations, start=1):
            ctx.check_cancelled()
            try:
                _apply(state, op)
            except InputRejected as exc:
                raise InputRejected(f"Operation {number} ({op.op}): {exc.message}", exc.status, exc.code) from exc
            if len(state.pages) > limit:
                raise InputRejected(
                    f"Operation {number} ({op.op}) makes {len(state.pages)} pages; the limit is {limit}",
                    400,
                    "TOO_MANY_PAGES",
                )
            ctx.progress(80 * number / total, "Applying page operations")
        out = pdf.save_pdf(doc, ctx.output_path(f"{ctx.input.stem}_edited.pdf"))
        origin = state.origin
    return ToolResult([out], {"pages": len(origin), "operations": total, "sourcePages": origin})
