"""The built-in meme templates and fonts, read by both the meme-generator tool and the HTTP routes
that serve them (GET /api/v1/meme-templates ...). No FastAPI here.

The templates are drawn by scripts/draw_meme_templates.py (the project's own artwork) and committed
as small PNGs with a manifest of text boxes, in percent of the image size.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from app.engine.media import draw

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "tools" / "image" / "meme_templates"


@dataclass(frozen=True)
class TextBox:
    id: str
    x: float  # left edge, percent of the width
    y: float  # top edge, percent of the height
    width: float
    height: float
    defaultText: str = ""

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "x": self.x,
            "y": self.y,
            "width": self.width,
            "height": self.height,
            "defaultText": self.defaultText,
        }


@dataclass(frozen=True)
class Template:
    id: str
    name: str
    filename: str
    width: int
    height: int
    textBoxes: tuple[TextBox, ...]

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "filename": self.filename,
            "width": self.width,
            "height": self.height,
            "textBoxes": [b.describe() for b in self.textBoxes],
        }


@lru_cache(maxsize=1)
def templates() -> dict[str, Template]:
    raw = json.loads((TEMPLATES_DIR / "manifest.json").read_text(encoding="utf-8"))
    found: dict[str, Template] = {}
    for entry in raw["templates"]:
        boxes = tuple(TextBox(**b) for b in entry["textBoxes"])
        found[entry["id"]] = Template(
            entry["id"], entry["name"], entry["filename"], int(entry["width"]), int(entry["height"]), boxes
        )
    return found


def template(template_id: str) -> Template | None:
    return templates().get(template_id)


def _listed(filename: str) -> bool:
    # Only names from the manifest are served: no path parts, nothing else in the folder.
    return any(t.filename == filename for t in templates().values())


def full_image(filename: str) -> Path | None:
    path = TEMPLATES_DIR / "full" / filename
    return path if _listed(filename) and path.is_file() else None


def thumbnail(filename: str) -> Path | None:
    path = TEMPLATES_DIR / "thumbs" / filename
    return path if _listed(filename) and path.is_file() else None


@dataclass(frozen=True)
class FontFile:
    family: str
    filename: str  # the name it is served under, e.g. "anton.ttf"
    path: Path
    face: draw.FontFace

    @property
    def media_type(self) -> str:
        return "font/otf" if self.path.suffix.lower() == ".otf" else "font/ttf"

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.family,
            "filename": self.filename,
            "renderedWith": self.face.name
            if self.path.name in {Path(f).name for f in self.face.files}
            else "DejaVu Sans Bold",
            "standsInFor": self.face.stands_in_for,
            "package": self.face.package,
            "licence": self.face.licence,
        }


def fonts() -> dict[str, FontFile]:
    """The meme font families by served filename, resolved to installed files."""
    out: dict[str, FontFile] = {}
    for family, face in draw.MEME_FONTS.items():
        path = draw.font_file(family)
        name = family + path.suffix.lower()
        out[name] = FontFile(family, name, path, face)
    return out


def describe_all() -> dict[str, Any]:
    return {
        "templates": [t.describe() for t in templates().values()],
        "fonts": [f.describe() for f in fonts().values()],
    }
