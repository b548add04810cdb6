"""PDF/A Convert: archival PDF/A-2b through Ghostscript, with an sRGB output intent, then checked.

The check reads the result back: the XMP packet must identify PDF/A part 2 conformance B, the
catalog must carry a GTS_PDFA1 output intent with an embedded ICC profile, every font must be
embedded and nothing may be encrypted or run JavaScript. That is not a full veraPDF validation (no
validator ships here); the answer says which checks were made.
"""

from __future__ import annotations

import glob
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.engine.media import pdf
from app.engine.tool import Inputs, NoSettings, ToolContext, ToolFailure, ToolResult, tool

if TYPE_CHECKING:
    import pikepdf

ICC_DIR = "/usr/share/color/icc/ghostscript/"
SRGB = ICC_DIR + "srgb.icc"


def _pdfa_def(ctx: ToolContext) -> Path:
    """Ghostscript's PDFA_def.ps pointed at the sRGB profile Debian's Ghostscript ships."""
    found = sorted(glob.glob("/usr/share/ghostscript/*/lib/PDFA_def.ps"))
    if not found or not Path(SRGB).is_file():
        raise ToolFailure("PDF/A conversion is not available on this server (Ghostscript's ICC profiles are missing)")
    text = Path(found[-1]).read_text("latin-1")
    text, n = re.subn(r"^/ICCProfile \([^)]*\)", f"/ICCProfile ({SRGB})", text, count=1, flags=re.MULTILINE)
    if n != 1:
        raise ToolFailure("PDF/A conversion is not available on this server (unexpected PDFA_def.ps)")
    target = ctx.workdir / ".pdfa_def.ps"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, "latin-1")
    return target


def _fonts_embedded(doc: pikepdf.Pdf) -> bool:
    import pikepdf

    for page in doc.pages:
        fonts = page.obj.get("/Resources", {}).get("/Font", {})
        for font in fonts.values() if isinstance(fonts, pikepdf.Dictionary) else []:
            if font.get("/Subtype") == "/Type0":
                font = font.DescendantFonts[0]
            if font.get("/Subtype") == "/Type3":
                continue
            desc = font.get("/FontDescriptor")
            if desc is None or not any(k in desc for k in ("/FontFile", "/FontFile2", "/FontFile3")):
                return False
    return True


def verify_pdfa(path: Path) -> dict[str, Any]:
    """What the result claims and carries; raises ToolFailure when it is not PDF/A-2b."""
    import pikepdf

    with pikepdf.open(path) as doc:
        meta = doc.open_metadata()
        part, conformance = str(meta.get("pdfaid:part", "")), str(meta.get("pdfaid:conformance", ""))
        intents = doc.Root.get("/OutputIntents", [])
        intent = any(
            i.get("/S") == "/GTS_PDFA1" and isinstance(i.get("/DestOutputProfile"), pikepdf.Stream) for i in intents
        )
        fonts = _fonts_embedded(doc)
        checks = {
            "xmpIdentification": part == "2" and conformance.upper() == "B",
            "outputIntent": intent,
            "fontsEmbedded": fonts,
            "notEncrypted": not doc.is_encrypted,
            "noJavaScript": "/OpenAction" not in doc.Root and "/JavaScript" not in doc.Root.get("/Names", {}),
        }
    failed = [k for k, ok in checks.items() if not ok]
    if failed:
        raise ToolFailure(f"Ghostscript could not make a valid PDF/A-2b file from this input ({', '.join(failed)})")
    return {"part": 2, "conformance": "B", "checks": checks,
            "validator": "Lutra's structural checks (no veraPDF on this server)"}  # fmt: skip


@tool(
    id="pdfa-convert",
    section="pdf",
    title="PDF/A Convert",
    description="Convert to PDF/A-2b for long-term archiving (fonts embedded, sRGB output intent), then check it.",
    settings=NoSettings,
    inputs=Inputs(kinds=("pdf",)),
    formats=("pdf",),
    long=True,
)
def run(ctx: ToolContext, settings: NoSettings) -> ToolResult:
    pages = pdf.check_input(ctx.input)
    ctx.progress(5, "Converting to PDF/A-2b")
    out = ctx.output_path(f"{ctx.input.stem}_pdfa.pdf")
    definition = _pdfa_def(ctx)
    # Policy 1: features PDF/A forbids (transparency groups in 1.x, JavaScript...) are dropped, not fatal.
    args = ["-dPDFA=2", "-dPDFACompatibilityPolicy=1", "-sColorConversionStrategy=RGB", "-dEmbedAllFonts=true",
            str(definition)]  # fmt: skip
    try:
        pdf.ghostscript(ctx, ctx.input.path, out, args, permit_read=[ICC_DIR, str(definition)], what="PDF/A conversion")
    finally:
        definition.unlink(missing_ok=True)
    ctx.progress(90, "Checking")
    pdf.finish_output(out)
    report = verify_pdfa(out)
    return ToolResult([out], {"pages": pages, "pdfa": report})
