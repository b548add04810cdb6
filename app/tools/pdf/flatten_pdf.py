"""Flatten PDF: bake form fields and annotations into the page content, so they can no longer change."""

from __future__ import annotations

from app.engine.media import pdf
from app.engine.tool import Inputs, NoSettings, ToolContext, ToolResult, tool


@tool(
    id="flatten-pdf",
    section="pdf",
    title="Flatten PDF",
    description="Bake filled-in form fields and annotations into the pages; the result has no editable fields.",
    settings=NoSettings,
    inputs=Inputs(kinds=("pdf",)),
    formats=("pdf",),
)
def run(ctx: ToolContext, settings: NoSettings) -> ToolResult:
    import pikepdf

    with pdf.open_pdf(ctx.input) as doc, pdf.pdf_errors():
        form = doc.Root.get("/AcroForm")
        fields = len(form.get("/Fields", [])) if isinstance(form, pikepdf.Dictionary) else 0
        annots = sum(len(p.obj.get("/Annots", [])) for p in doc.pages)
        # Fields filled in by software that left NeedAppearances set have no picture of their value
        # yet: qpdf draws one first, then merges every appearance into the page content.
        if fields:
            doc.generate_appearance_streams()
        doc.flatten_annotations(mode="all")
        if "/AcroForm" in doc.Root:
            del doc.Root["/AcroForm"]
        # Annotations without an appearance (links, popups) remain; links keep working.
        left = sum(len(p.obj.get("/Annots", [])) for p in doc.pages)
        path = pdf.save_pdf(doc, ctx.output_path(f"{ctx.input.stem}_flat.pdf"))
        pages = len(doc.pages)
    return ToolResult([path], {"pages": pages, "formFields": fields, "annotationsFlattened": annots - left})
