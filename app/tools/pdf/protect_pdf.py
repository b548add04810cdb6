"""Protect PDF: AES-256 encryption with a user (open) password and an owner (permissions) password."""

from __future__ import annotations

from pydantic import Field

from app.engine.media import pdf
from app.engine.tool import Inputs, ToolContext, ToolResult, ToolSettings, tool


class ProtectPdfSettings(ToolSettings):
    userPassword: str = Field(..., min_length=1, max_length=127, description="Password needed to open the PDF")
    ownerPassword: str | None = Field(
        None,
        min_length=1,
        max_length=127,
        description="Password for full rights (printing, editing); default: the user password",
    )
    currentPassword: str = Field(
        "", max_length=127, description="The input's password when it is already encrypted (to re-protect it)"
    )


@tool(
    id="protect-pdf",
    section="pdf",
    title="Protect PDF",
    description="Encrypt a PDF with AES-256: a password to open it and an owner password for full rights.",
    settings=ProtectPdfSettings,
    inputs=Inputs(kinds=("pdf",)),
    formats=("pdf",),
)
def run(ctx: ToolContext, settings: ProtectPdfSettings) -> ToolResult:
    import pikepdf

    owner = settings.ownerPassword or settings.userPassword
    with pdf.open_pdf(ctx.input, password=settings.currentPassword, allow_encrypted=True) as doc:
        # R=6 is AES-256 (PDF 2.0 / Acrobat X). With a distinct owner password, the user may view and
        # print but not change the file; with one password, opening it gives full rights anyway.
        allow = pikepdf.Permissions(
            extract=owner == settings.userPassword,
            modify_annotation=owner == settings.userPassword,
            modify_assembly=False,
            modify_form=owner == settings.userPassword,
            modify_other=owner == settings.userPassword,
            print_lowres=True,
            print_highres=True,
            accessibility=True,
        )
        encryption = pikepdf.Encryption(user=settings.userPassword, owner=owner, R=6, allow=allow)
        path = pdf.save_pdf(doc, ctx.output_path(f"{ctx.input.stem}_protected.pdf"), encryption=encryption)
        pages = len(doc.pages)
    return ToolResult([path], {"pages": pages, "encryption": "AES-256"})
