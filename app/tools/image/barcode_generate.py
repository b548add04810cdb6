"""Barcode Generator: Code 128, EAN-13, UPC-A, Code 39, ITF-14 and DataMatrix as PNG (JSON body)."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, model_validator

from app.engine.tool import Inputs, ToolContext, ToolFailure, ToolResult, ToolSettings, tool

BarcodeType = Literal["code128", "ean13", "upca", "code39", "itf14", "datamatrix"]
# Names of zxingcpp.BarcodeFormat members, looked up in run() so that zxing-cpp is only imported
# where barcodes are made (worker processes), not by the server process that loads this module.
FORMATS = {
    "code128": "Code128",
    "ean13": "EAN13",
    "upca": "UPCA",
    "code39": "Code39",
    "itf14": "ITF14",
    "datamatrix": "DataMatrix",
}
# GTIN-style codes: (digits without the check digit, human name).
GTIN = {"ean13": (12, "EAN-13"), "upca": (11, "UPC-A"), "itf14": (13, "ITF-14")}
CODE39 = re.compile(r"^[0-9A-Z \-.$/+%]+$")


def check_digit(digits: str) -> int:
    """The GS1 mod-10 check digit: weights 3 and 1 alternating from the right."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return (10 - total % 10) % 10


class BarcodeSettings(ToolSettings):
    text: str = Field(..., min_length=1, max_length=1000, description="What to encode")
    type: BarcodeType = Field("code128", description="Symbology")
    scale: int = Field(2, ge=1, le=8, description="Pixels per bar module")
    includeText: bool = Field(True, description="Print the human-readable text under 1D barcodes")

    @model_validator(mode="after")
    def _valid_for_type(self) -> BarcodeSettings:
        text = self.text
        if self.type in GTIN:
            body, name = GTIN[self.type]
            if not text.isdigit() or len(text) not in (body, body + 1):
                raise ValueError(f"text: {name} takes {body} digits, or {body + 1} with the check digit")
            expected = check_digit(text[:body])
            if len(text) == body + 1 and int(text[-1]) != expected:
                raise ValueError(f"text: wrong {name} check digit {text[-1]} (for {text[:body]} it is {expected})")
        elif self.type == "code39" and not CODE39.match(text):
            raise ValueError("text: Code 39 takes 0-9, A-Z (upper case), space and - . $ / + %")
        elif self.type == "code128" and (not text.isascii() or not text.isprintable() or len(text) > 80):
            raise ValueError("text: Code 128 takes up to 80 printable ASCII characters")
        elif self.type in ("code39", "itf14") and len(text) > 80:
            raise ValueError("text: too long for a 1D barcode")
        return self

    def full_text(self) -> str:
        """The text with its check digit added where the symbology has one and it was left out."""
        if self.type in GTIN and len(self.text) == GTIN[self.type][0]:
            return self.text + str(check_digit(self.text))
        return self.text


@tool(
    id="barcode-generate",
    section="image",
    title="Barcode Generator",
    description="Make a Code 128, EAN-13, UPC-A, Code 39, ITF-14 or DataMatrix barcode PNG (JSON body).",
    settings=BarcodeSettings,
    inputs=Inputs(min_files=0, max_files=0),
    formats=("png",),
)
def run(ctx: ToolContext, settings: BarcodeSettings) -> ToolResult:
    import zxingcpp
    from PIL import Image

    text = settings.full_text()
    try:
        code = zxingcpp.create_barcode(text, getattr(zxingcpp.BarcodeFormat, FORMATS[settings.type]))
    except ValueError:
        # The validator caught the usual mistakes; this is the encoder's own limit (e.g. too long).
        raise ToolFailure(f"This text can't be encoded as {settings.type}") from None
    hrt = settings.includeText and settings.type != "datamatrix"
    raster = memoryview(code.to_image(scale=settings.scale, add_hrt=hrt, add_quiet_zones=True))
    height, width = raster.shape[0], raster.shape[1]
    image = Image.frombuffer("L", (width, height), bytes(raster), "raw", "L", 0, 1)
    out = ctx.output_path(f"barcode-{settings.type}.png")
    image.save(out, optimize=True)
    return ToolResult([out], {"type": settings.type, "text": text, "width": image.width, "height": image.height})
