"""Sign PDF: a visible signature (an image with transparency, or typed text in a chosen font) with an
optional date, placed at x/y/width on the chosen pages; and, with a PKCS#12 certificate, a real
cryptographic PAdES signature that PDF readers (and pdfsig, pyHanko) verify."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from app.engine.media import pdf, signing
from app.engine.media.pdf import PageSpec
from app.engine.tool import ExtraPart, InputRejected, Inputs, ToolContext, ToolResult, ToolSettings, tool

_FONT_DIRS = ("/usr/share/fonts/truetype/liberation2/", "/usr/share/fonts/truetype/dejavu/")
# Handwriting-like first; every face is a TrueType file from a package in docker/apt-packages.txt.
FONTS: dict[str, str] = {
    "script": "/usr/share/fonts/truetype/yusei-magic/YuseiMagic-Regular.ttf",
    "serif-italic": _FONT_DIRS[0] + "LiberationSerif-Italic.ttf",
    "sans-italic": _FONT_DIRS[0] + "LiberationSans-Italic.ttf",
    "serif": _FONT_DIRS[1] + "DejaVuSerif.ttf",
    "sans": _FONT_DIRS[1] + "DejaVuSans.ttf",
}
SignatureFont = Literal["script", "serif-italic", "sans-italic", "serif", "sans"]
MAX_TEXT_PT = 96.0  # a short name at a wide width would otherwise be drawn page-high


class SignPdfSettings(ToolSettings):
    text: str | None = Field(
        None,
        min_length=1,
        max_length=100,
        description="Typed signature in `font` (instead of a signature image)",
    )
    font: SignatureFont = Field("script", description="Font of the typed signature")
    color: str = Field("#1a237e", pattern=r"^#[0-9a-fA-F]{6}$", description="Colour of typed text and date, #RRGGBB")
    pages: PageSpec = Field("1", description="Pages to sign, qpdf syntax: 1, z (the last), 1-z (all), 1,3")
    x: float = Field(72, ge=0, le=14400, description="Left edge of the signature, in points from the page's left")
    y: float = Field(72, ge=0, le=14400, description="Top edge of the signature, in points from the page's top")
    width: float = Field(150, ge=8, le=14400, description="Width of the signature in points (the height follows)")
    date: bool = Field(False, description="Write the date of signing under the signature")
    dateFormat: str = Field(
        "%Y-%m-%d", max_length=40, pattern=r"^[%A-Za-z0-9 .,/:-]+$", description="strftime format of the date"
    )
    certificatePassword: str = Field(
        "",
        max_length=256,
        description="Password of the `certificate` PKCS#12 file",
        json_schema_extra={"format": "password", "writeOnly": True},
    )
    signerName: str | None = Field(None, max_length=200, description="Name recorded in the digital signature")
    reason: str | None = Field(None, max_length=200, description="Reason recorded in the digital signature")
    location: str | None = Field(None, max_length=200, description="Location recorded in the digital signature")


@cache
def _font(key: str) -> str:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    name = f"LutraSign-{key}"
    pdfmetrics.registerFont(TTFont(name, FONTS[key]))
    return name


class _Mark:
    """The visible signature's size and how to draw it, measured once for every page."""

    def __init__(self, settings: SignPdfSettings, image: Path | None) -> None:
        from reportlab.lib.utils import ImageReader
        from reportlab.pdfbase.pdfmetrics import stringWidth

        self.s = settings
        self.image = ImageReader(str(image)) if image is not None else None
        self.font = _font(settings.font)
        self.size = 0.0
        if self.image is not None:
            iw, ih = self.image.getSize()
            self.height = settings.width * ih / iw
        elif settings.text:
            self.size = min(settings.width / stringWidth(settings.text, self.font, 1), MAX_TEXT_PT)
            self.height = self.size * 1.25
        else:
            self.height = 0.0
        self.date_size = max(6.0, min(12.0, settings.width / 12))
        self.date_text = datetime.now(UTC).strftime(settings.dateFormat) if settings.date else ""
        self.total = self.height + (self.date_size * 1.5 if self.date_text else 0)

    def check_fits(self, index: int, page_w: float, page_h: float) -> None:
        s = self.s
        if s.x + s.width > page_w + 0.01 or s.y + self.total > page_h + 0.01:
            raise InputRejected(
                f"The signature ({s.width:g}x{self.total:.0f} pt at x {s.x:g}, y {s.y:g}) does not fit on page "
                f"{index + 1}, which is {page_w:.0f}x{page_h:.0f} pt",
                422,
                "SIGNATURE_OUT_OF_PAGE",
            )

    def draw(self, canvas: Any, index: int, page_w: float, page_h: float) -> None:
        from reportlab.lib.colors import HexColor

        s = self.s
        top = page_h - s.y  # reportlab's origin is the bottom-left corner
        canvas.setFillColor(HexColor(s.color))
        if self.image is not None:
            canvas.drawImage(self.image, s.x, top - self.height, s.width, self.height, mask="auto")
        elif s.text:
            canvas.setFont(self.font, self.size)
            canvas.drawString(s.x, top - self.size, s.text)  # a descender's worth of room below
        if self.date_text:
            canvas.setFont(_font("sans"), self.date_size)
            canvas.drawString(s.x, top - self.height - self.date_size * 1.2, self.date_text)


@tool(
    id="sign-pdf",
    section="pdf",
    title="Sign PDF",
    description=(
        "Place a signature image or typed signature (and the date) on pages, and sign the PDF digitally "
        "(PAdES) with your PKCS#12 certificate."
    ),
    settings=SignPdfSettings,
    inputs=Inputs(
        kinds=("pdf",),
        extra=(
            ExtraPart(
                "signature",
                kinds=("png", "jpeg", "webp"),
                required=False,
                description="Signature image (PNG with transparency works best)",
            ),
            ExtraPart(
                "certificate",
                kinds=("pkcs12",),
                required=False,
                description="PKCS#12 (.p12/.pfx) certificate with its private key, for a digital signature",
            ),
        ),
    ),
    formats=("pdf",),
)
def run(ctx: ToolContext, settings: SignPdfSettings) -> ToolResult:
    image = ctx.extra.get("signature")
    certificate = ctx.extra.get("certificate")
    if image is not None and settings.text:
        raise InputRejected("Send a signature image or a typed text, not both", 400, "SIGNATURE_CONFLICT")
    visible = image is not None or bool(settings.text) or settings.date
    if not visible and certificate is None:
        raise InputRejected(
            "Nothing to sign with: send a `signature` image, a text, or a `certificate`", 400, "NOTHING_TO_SIGN"
        )
    # Opened first, so a wrong password fails before any page is drawn.
    signer = signing.load_signer(certificate.path, settings.certificatePassword) if certificate else None
    stem = ctx.input.stem
    with pdf.open_pdf(ctx.input) as doc:
        indexes = list(dict.fromkeys(pdf.parse_pages(settings.pages, len(doc.pages))))
        if visible:
            mark = _Mark(settings, image.path if image else None)
            for index in indexes:
                x0, y0, x1, y1 = pdf.visible_box(doc.pages[index])
                mark.check_fits(index, x1 - x0, y1 - y0)
            ctx.progress(20, "Placing the signature")
            pdf.stamp_pages(doc, indexes, mark.draw)
        drawn = pdf.save_pdf(doc, ctx.output_path(f"{stem}_signed.pdf" if signer is None else f".{stem}_unsigned.pdf"))
    data: dict[str, Any] = {"pages": [i + 1 for i in indexes] if visible else [], "digitallySigned": False}
    if signer is None:
        return ToolResult([drawn], data)
    ctx.progress(70, "Signing digitally")
    out = signing.sign_pades(
        drawn,
        ctx.output_path(f"{stem}_signed.pdf"),
        signer,
        name=settings.signerName,
        reason=settings.reason,
        location=settings.location,
    )
    drawn.unlink(missing_ok=True)
    data.update(digitallySigned=True, signatureField=signing.FIELD_NAME, signatureLevel="PAdES-B-B")
    return ToolResult([out], data)
