"""Passport photo specifications of 37 countries (and the Schengen visa), as data for passport-photo.

Sizes are the printed photo's width x height in millimetres; `head` is the allowed height of the head
from the chin to the crown (top of the hair) in millimetres; `eyes` (where the issuer states it) is the
allowed height of the eye line above the photo's bottom edge; `top` (where stated) the gap from the
crown to the photo's top edge. Most issuers follow ICAO Doc 9303 (35 x 45 mm, head 32-36 mm, i.e.
70-80% of the height, plain light background); the others are noted. Rules change: the tool's output
is a starting point, and the issuing authority's current guidance is what counts.
"""

from __future__ import annotations

from dataclasses import dataclass

MM_PER_INCH = 25.4
DEFAULT_DPI = 300
WHITE = "#ffffff"
LIGHT_GREY = "#eeeeee"  # "plain light grey" backgrounds (UK cream/grey, German and French neutral grey)


@dataclass(frozen=True)
class PhotoSpec:
    code: str
    name: str
    width_mm: float
    height_mm: float
    head_mm: tuple[float, float]
    background: str = WHITE
    eyes_mm: tuple[float, float] | None = None  # eye line above the bottom edge
    top_mm: float | None = None  # crown to the top edge
    dpi: int = DEFAULT_DPI
    note: str = ""

    def px(self, mm: float) -> int:
        return round(mm / MM_PER_INCH * self.dpi)

    @property
    def width_px(self) -> int:
        return self.px(self.width_mm)

    @property
    def height_px(self) -> int:
        return self.px(self.height_mm)

    @property
    def head_target_mm(self) -> float:
        return (self.head_mm[0] + self.head_mm[1]) / 2

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            "code": self.code,
            "name": self.name,
            "widthMm": self.width_mm,
            "heightMm": self.height_mm,
            "headHeightMm": list(self.head_mm),
            "backgroundColor": self.background,
            "dpi": self.dpi,
            "widthPx": self.width_px,
            "heightPx": self.height_px,
        }
        if self.eyes_mm:
            out["eyeLineFromBottomMm"] = list(self.eyes_mm)
        if self.note:
            out["note"] = self.note
        return out


def _icao(code: str, name: str, background: str = WHITE, note: str = "") -> PhotoSpec:
    return PhotoSpec(code, name, 35, 45, (32, 36), background, note=note)


SPECS: dict[str, PhotoSpec] = {
    s.code: s
    for s in (
        PhotoSpec(
            "US",
            "United States",
            50.8,
            50.8,
            (25.4, 34.9),
            eyes_mm=(28.6, 34.9),
            note="2 x 2 in; head 1 to 1 3/8 in; eyes 1 1/8 to 1 3/8 in above the bottom",
        ),
        PhotoSpec("CA", "Canada", 50, 70, (31, 36), note="50 x 70 mm; chin to crown 31-36 mm"),
        PhotoSpec("GB", "United Kingdom", 35, 45, (29, 34), LIGHT_GREY, note="cream or light grey background"),
        _icao("IE", "Ireland"),
        _icao("EU", "Schengen visa", LIGHT_GREY),
        _icao("DE", "Germany", LIGHT_GREY, "neutral light background, grey preferred"),
        _icao("FR", "France", LIGHT_GREY, "light grey or light blue, not white"),
        _icao("IT", "Italy"),
        _icao("NL", "Netherlands"),
        _icao("BE", "Belgium"),
        _icao("AT", "Austria", LIGHT_GREY),
        _icao("CH", "Switzerland", LIGHT_GREY),
        _icao("SE", "Sweden"),
        _icao("NO", "Norway"),
        _icao("DK", "Denmark"),
        _icao("PL", "Poland"),
        _icao("PT", "Portugal"),
        _icao("CZ", "Czech Republic"),
        _icao("HU", "Hungary"),
        _icao("RU", "Russia"),
        _icao("UA", "Ukraine"),
        _icao("IN", "India", note="passport 35 x 45 mm, face about 80% of the photo (visas and OCI: 2 x 2 in)"),
        _icao("PK", "Pakistan"),
        PhotoSpec(
            "CN",
            "China",
            33,
            48,
            (28, 33),
            top_mm=4,
            note="33 x 48 mm; chin to crown 28-33 mm; 3-5 mm above the head",
        ),
        PhotoSpec("HK", "Hong Kong", 40, 50, (32, 36), note="40 x 50 mm"),
        _icao("TW", "Taiwan"),
        _icao("JP", "Japan", note="head 34 mm +/- 2 mm"),
        _icao("KR", "South Korea"),
        PhotoSpec("SG", "Singapore", 35, 45, (25, 35)),
        _icao("PH", "Philippines"),
        _icao("TH", "Thailand"),
        PhotoSpec("MY", "Malaysia", 35, 50, (32, 36), note="35 x 50 mm"),
        _icao("AU", "Australia"),
        _icao("NZ", "New Zealand"),
        _icao("ZA", "South Africa"),
        _icao("NG", "Nigeria"),
        _icao("MX", "Mexico"),
    )
}

COUNTRY_CODES: tuple[str, ...] = tuple(SPECS)

# Print sheets (width x height in mm, portrait); layouts try both orientations.
SHEETS: dict[str, tuple[float, float]] = {"4x6": (101.6, 152.4), "A4": (210, 297)}
