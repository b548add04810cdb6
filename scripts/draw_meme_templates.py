"""Draws Lutra's built-in meme templates (PNG + thumbnails + manifest) into app/tools/image/meme_templates/.

The templates are simple panels and shapes drawn here, so the project owns them outright (they ship
under the project's own licence). Run by hand after changing a design, then commit the output:

    .venv/bin/python scripts/draw_meme_templates.py
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

OUT = Path(__file__).resolve().parent.parent / "app" / "tools" / "image" / "meme_templates"
THUMB_WIDTH = 160

Box = dict[str, Any]  # {"id", "x", "y", "width", "height", "defaultText"}: percentages of the image


def box(id: str, x: float, y: float, w: float, h: float, text: str) -> Box:
    return {"id": id, "x": x, "y": y, "width": w, "height": h, "defaultText": text}


def gradient(size: tuple[int, int], top: tuple[int, int, int], bottom: tuple[int, int, int]) -> Image.Image:
    w, h = size
    image = Image.new("RGB", size)
    d = ImageDraw.Draw(image)
    for y in range(h):
        t = y / max(1, h - 1)
        d.line([(0, y), (w, y)], fill=tuple(round(a + (b - a) * t) for a, b in zip(top, bottom, strict=True)))
    return image


def figure(d: ImageDraw.ImageDraw, cx: int, cy: int, s: int, colour: str, mood: str = "plain") -> None:
    """A round-headed figure: head at (cx, cy) with radius s, body below."""
    d.ellipse([cx - s, cy - s, cx + s, cy + s], fill="#ffd8a8", outline="#222", width=3)
    d.rounded_rectangle([cx - s, cy + s + 4, cx + s, cy + 3 * s], radius=s // 2, fill=colour, outline="#222", width=3)
    eye = s // 3
    d.ellipse([cx - eye - 4, cy - eye, cx - eye + 4, cy - eye + 8], fill="#222")
    d.ellipse([cx + eye - 4, cy - eye, cx + eye + 4, cy - eye + 8], fill="#222")
    if mood == "happy":
        d.arc([cx - s // 2, cy - s // 4, cx + s // 2, cy + s // 2], 20, 160, fill="#222", width=3)
    elif mood == "sad":
        d.arc([cx - s // 2, cy + s // 5, cx + s // 2, cy + s], 200, 340, fill="#222", width=3)
    else:
        d.line([cx - s // 3, cy + s // 3, cx + s // 3, cy + s // 3], fill="#222", width=3)


def two_panel_choice() -> tuple[Image.Image, list[Box]]:
    image = Image.new("RGB", (600, 600), "white")
    d = ImageDraw.Draw(image)
    d.rectangle([0, 0, 299, 299], fill="#f4a261")
    d.rectangle([0, 300, 299, 599], fill="#90be6d")
    figure(d, 150, 110, 50, "#e76f51", "sad")
    d.line([60, 40, 240, 260], fill="#c1121f", width=10)
    figure(d, 150, 410, 50, "#2a9d8f", "happy")
    d.line([0, 300, 600, 300], fill="#222", width=4)
    d.line([300, 0, 300, 600], fill="#222", width=4)
    return image, [box("top", 52, 4, 46, 42, "THE OLD WAY"), box("bottom", 52, 54, 46, 42, "THE LUTRA WAY")]


def four_levels() -> tuple[Image.Image, list[Box]]:
    image = Image.new("RGB", (600, 800), "white")
    d = ImageDraw.Draw(image)
    for level in range(4):
        top = level * 200
        shade = 30 + level * 20
        d.rectangle([300, top, 599, top + 199], fill=(shade, shade, shade + 30))
        glow = 40 + level * 25
        colour = (120 + level * 45, 120 + level * 40, 255)
        d.ellipse([450 - glow, top + 100 - glow, 450 + glow, top + 100 + glow], fill=colour)
        d.ellipse([450 - 30, top + 70, 450 + 30, top + 130], fill="#ffd8a8", outline="#222", width=2)
        d.line([0, top, 600, top], fill="#222", width=3)
    d.line([300, 0, 300, 800], fill="#222", width=3)
    boxes = [
        box(f"level{n + 1}", 2, n * 25 + 1, 46, 23, text)
        for n, text in enumerate(["IDEA", "BETTER", "GREAT", "GALAXY"])
    ]
    return image, boxes


def two_buttons() -> tuple[Image.Image, list[Box]]:
    image = Image.new("RGB", (600, 650), "#dfe7fd")
    d = ImageDraw.Draw(image)
    d.rounded_rectangle([30, 30, 570, 330], radius=24, fill="#adb5bd", outline="#222", width=4)
    for left in (70, 320):
        d.ellipse([left, 80, left + 210, 280], fill="#d62828", outline="#222", width=4)
        d.ellipse([left + 20, 95, left + 190, 240], fill="#f77f00")
    d.rectangle([0, 360, 600, 650], fill="#caf0f8")
    figure(d, 300, 450, 60, "#264653", "sad")
    for dx in (-80, 80):  # drops of worry
        d.ellipse([300 + dx - 8, 400, 300 + dx + 8, 424], fill="#48cae4")
    return image, [
        box("left", 10, 8, 38, 36, "OPTION A"),
        box("right", 52, 8, 38, 36, "OPTION B"),
        box("bottom", 5, 84, 90, 14, "ME"),
    ]


def comparison() -> tuple[Image.Image, list[Box]]:
    image = Image.new("RGB", (800, 450), "white")
    d = ImageDraw.Draw(image)
    d.rectangle([0, 0, 399, 449], fill="#a8dadc")
    d.rectangle([400, 0, 799, 449], fill="#ffb703")
    figure(d, 200, 230, 60, "#457b9d", "plain")
    figure(d, 600, 230, 60, "#fb8500", "happy")
    d.line([400, 0, 400, 450], fill="#222", width=5)
    return image, [box("left", 3, 3, 44, 24, "THEM"), box("right", 53, 3, 44, 24, "US")]


def sign_holder() -> tuple[Image.Image, list[Box]]:
    image = gradient((640, 480), (142, 202, 230), (230, 245, 255))
    d = ImageDraw.Draw(image)
    d.rectangle([0, 380, 640, 480], fill="#6a994e")
    figure(d, 140, 250, 45, "#bc4749", "happy")
    d.rectangle([250, 330, 610, 345], fill="#7f5539")
    d.rectangle([270, 345, 285, 420], fill="#7f5539")
    d.rectangle([575, 345, 590, 420], fill="#7f5539")
    d.rounded_rectangle([300, 120, 600, 320], radius=10, fill="#fefae0", outline="#222", width=4)
    return image, [box("sign", 49, 27, 44, 38, "PROVE ME WRONG"), box("top", 3, 2, 94, 18, "")]


def three_panel() -> tuple[Image.Image, list[Box]]:
    image = Image.new("RGB", (500, 750), "white")
    d = ImageDraw.Draw(image)
    colours = ["#e9c46a", "#f4a261", "#e76f51"]
    moods = ["plain", "happy", "sad"]
    for n in range(3):
        top = n * 250
        d.rectangle([0, top, 499, top + 249], fill=colours[n], outline="#222", width=4)
        figure(d, 390, top + 110, 40, "#264653", moods[n])
    return image, [box(f"panel{n + 1}", 3, n * 33.3 + 2, 64, 29, t) for n, t in enumerate(["PLAN", "START", "MONDAY"])]


def classic() -> tuple[Image.Image, list[Box]]:
    image = Image.new("RGB", (600, 600), "#3a0ca3")
    d = ImageDraw.Draw(image)
    for n in range(24):  # sunburst rays
        colour = "#4361ee" if n % 2 else "#3a0ca3"
        d.pieslice([-300, -300, 900, 900], n * 15, n * 15 + 15, fill=colour)
    figure(d, 300, 270, 80, "#f72585", "happy")
    return image, [box("top", 5, 2, 90, 20, "TOP TEXT"), box("bottom", 5, 78, 90, 20, "BOTTOM TEXT")]


TEMPLATES: list[tuple[str, str, Callable[[], tuple[Image.Image, list[Box]]]]] = [
    ("classic", "Classic Top & Bottom", classic),
    ("two-panel-choice", "Nope / Yes", two_panel_choice),
    ("four-levels", "Four Levels of Enlightenment", four_levels),
    ("two-buttons", "Two Buttons", two_buttons),
    ("comparison", "Them vs Us", comparison),
    ("sign-holder", "Prove Me Wrong Sign", sign_holder),
    ("three-panel", "Three Panel Story", three_panel),
]


def main() -> None:
    (OUT / "full").mkdir(parents=True, exist_ok=True)
    (OUT / "thumbs").mkdir(parents=True, exist_ok=True)
    manifest = []
    for template_id, name, make in TEMPLATES:
        image, boxes = make()
        filename = f"{template_id}.png"
        # An adaptive palette keeps these flat drawings to a few kilobytes.
        image.quantize(64).save(OUT / "full" / filename, optimize=True)
        thumb = image.resize((THUMB_WIDTH, round(image.height * THUMB_WIDTH / image.width)), Image.Resampling.LANCZOS)
        thumb.quantize(64).save(OUT / "thumbs" / filename, optimize=True)
        manifest.append(
            {
                "id": template_id,
                "name": name,
                "filename": filename,
                "width": image.width,
                "height": image.height,
                "textBoxes": boxes,
            }
        )
    (OUT / "manifest.json").write_text(json.dumps({"templates": manifest}, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {len(manifest)} templates to {OUT}")


if __name__ == "__main__":
    main()
