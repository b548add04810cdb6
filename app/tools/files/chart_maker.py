"""Chart Maker: a bar, line or pie chart (PNG) from CSV or JSON data, drawn with Pillow.

Data shapes: a CSV whose first column holds the labels and whose other numeric columns are series
(the header names them); JSON as an array of objects (first text field = label, numeric fields =
series), an object of label -> number, an array of numbers, or {"labels": [...], "series"/"datasets":
[{"name"/"label", "values"/"data"}]}.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from app.engine.media import data
from app.engine.tool import InputRejected, Inputs, ToolContext, ToolResult, ToolSettings, tool

# Tableau 10: distinct and readable for common colour-vision deficiencies.
PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f",
           "#bab0ac"]  # fmt: skip
MAX_POINTS = 1000
MAX_SERIES = 10
SCALE = 2  # drawn at twice the size, then reduced: smooth edges without an anti-aliasing renderer
_FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
_BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"


class ChartMakerSettings(ToolSettings):
    kind: Literal["bar", "line", "pie"] = Field("bar", description="Chart type")
    title: str = Field("", max_length=200, description="Title drawn above the chart")
    width: int = Field(800, ge=200, le=4000, description="Image width in pixels")
    height: int = Field(600, ge=200, le=4000, description="Image height in pixels")


Series = list[tuple[str, list[float]]]
_THOUSANDS = re.compile(r"-?\d{1,3}(,\d{3})+(\.\d+)?")
_DECIMAL_COMMA = re.compile(r"[-+]?\d{1,3}(?:\.\d{3})+,\d+|[-+]?\d+,\d+")


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value) if math.isfinite(value) else None
    text = str(value).strip()
    if _THOUSANDS.fullmatch(text):
        text = text.replace(",", "")
    elif _DECIMAL_COMMA.fullmatch(text):
        # European notation (12,5 or 1.234,5), as in the semicolon CSVs spreadsheet programs write there.
        text = text.replace(".", "").replace(",", ".")
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _from_table(header: list[str], rows: list[list[Any]]) -> tuple[list[str], Series]:
    """Label column = the first column that isn't numeric throughout (else row numbers); every other
    column whose cells are numbers (blanks count as 0) is a series."""
    width = len(header)
    rows = [list(r) + [""] * (width - len(r)) for r in rows]

    def numeric(col: int) -> bool:
        cells = [r[col] for r in rows if str(r[col]).strip() != ""]
        return bool(cells) and all(_number(c) is not None for c in cells)

    label_col = next((c for c in range(width) if not numeric(c)), None)
    labels = [str(r[label_col]) for r in rows] if label_col is not None else [str(i + 1) for i in range(len(rows))]
    series = [
        (header[c] or f"Series {c + 1}", [_number(r[c]) or 0.0 for r in rows])
        for c in range(width)
        if c != label_col and numeric(c)
    ]
    return labels, series


def _from_json(value: Any) -> tuple[list[str], Series]:
    if isinstance(value, dict) and isinstance(value.get("labels"), list):
        raw = value.get("series", value.get("datasets", value.get("values", value.get("data"))))
        if isinstance(raw, list) and raw and not isinstance(raw[0], dict):
            raw = [{"name": "Value", "values": raw}]
        series: Series = []
        for i, item in enumerate(raw if isinstance(raw, list) else []):
            if isinstance(item, dict):
                values = item.get("values", item.get("data", []))
                name = str(item.get("name", item.get("label", f"Series {i + 1}")))
                series.append((name, [_number(v) or 0.0 for v in (values if isinstance(values, list) else [])]))
        return [str(v) for v in value["labels"]], series
    if isinstance(value, dict) and value and all(_number(v) is not None for v in value.values()):
        return [str(k) for k in value], [("Value", [_number(v) or 0.0 for v in value.values()])]
    if isinstance(value, dict):
        arrays = [v for v in value.values() if isinstance(v, list)]
        if len(arrays) == 1:
            value = arrays[0]
    if isinstance(value, list) and value and all(_number(v) is not None for v in value):
        return [str(i + 1) for i in range(len(value))], [("Value", [_number(v) or 0.0 for v in value])]
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        flat = [data.flatten(v) for v in value]
        columns: dict[str, None] = {}
        for item in flat:
            columns.update(dict.fromkeys(item))
        header = list(columns)
        return _from_table(header, [[item.get(c, "") for c in header] for item in flat])
    if isinstance(value, list) and value and all(isinstance(v, list) for v in value):
        return _from_table([str(v) for v in value[0]], value[1:])
    raise InputRejected("No chartable data found: use a table with a label column and numeric columns", 400)


def load_series(path: Path, kind: str) -> tuple[list[str], Series]:
    if kind == "json":
        labels, series = _from_json(data.read_json(path))
    else:
        rows = data.read_csv(path)
        if len(rows) < 2:
            raise InputRejected("The CSV needs a header row and at least one data row", 400)
        labels, series = _from_table(data.unique_names(rows[0]), rows[1:])
    series = [(name, values) for name, values in series if values]
    if not series or not labels:
        raise InputRejected("No numeric column found to chart", 400)
    if len(labels) > MAX_POINTS or len(series) > MAX_SERIES:
        raise InputRejected(f"Too much data: at most {MAX_POINTS} points and {MAX_SERIES} series", 400)
    size = len(labels)
    return labels, [(name, (values + [0.0] * size)[:size]) for name, values in series]


def _nice_step(span: float, ticks: int = 5) -> float:
    raw = span / ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    return next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)


def _fmt(value: float) -> str:
    if abs(value) >= 1e6:
        return f"{value / 1e6:g}M"
    if abs(value) >= 1e4:
        return f"{value / 1e3:g}k"
    return f"{value:g}"


def _fit(draw: Any, text: str, font: Any, width: float) -> str:
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text + "…" if text else ""


class Chart:
    def __init__(self, settings: ChartMakerSettings) -> None:
        from PIL import Image, ImageDraw, ImageFont

        self.w, self.h = settings.width * SCALE, settings.height * SCALE
        self.image = Image.new("RGB", (self.w, self.h), "white")
        self.draw = ImageDraw.Draw(self.image)
        base = max(10, min(settings.width, settings.height) // 32) * SCALE

        def font(path: str, size: int) -> Any:
            try:
                return ImageFont.truetype(path, size)
            except OSError:
                return ImageFont.load_default(size)

        self.font = font(_FONT, base)
        self.small = font(_FONT, int(base * 0.85))
        self.title_font = font(_BOLD, int(base * 1.6))
        self.top = base
        if settings.title:
            title = _fit(self.draw, settings.title, self.title_font, self.w - 2 * base)
            self.draw.text((self.w / 2, base), title, fill="#222222", font=self.title_font, anchor="ma")
            self.top += int(base * 2.6)
        self.base = base

    def legend(self, names: list[str], x: float, y: float, width: float) -> float:
        """Draws colour swatches with names in rows from (x, y); returns the height used."""
        b = self.base
        cx, cy = x, y
        for i, name in enumerate(names):
            label = _fit(self.draw, name, self.small, width / 2)
            item = b + b * 0.5 + self.draw.textlength(label, font=self.small) + b
            if cx + item > x + width and cx > x:
                cx, cy = x, cy + b * 1.6
            self.draw.rectangle([cx, cy, cx + b, cy + b], fill=PALETTE[i % len(PALETTE)])
            self.draw.text((cx + b * 1.5, cy + b / 2), label, fill="#333333", font=self.small, anchor="lm")
            cx += item
        return cy - y + b * 1.6

    def axes(self, labels: list[str], series: Series, kind: str) -> None:
        b = self.base
        values = [v for _, vs in series for v in vs]
        low, high = min(0.0, *values), max(0.0, *values)
        if high == low:
            high = low + 1
        step = _nice_step(high - low)
        low, high = math.floor(low / step) * step, math.ceil(high / step) * step
        legend_h = (
            self.legend([n for n, _ in series], b * 2, self.h - b * 2.4, self.w - b * 4) if len(series) > 1 else 0
        )
        tick_w = max(self.draw.textlength(_fmt(low + k * step), font=self.small)
                     for k in range(round((high - low) / step) + 1))  # fmt: skip
        left, right = b * 1.5 + tick_w + b * 0.6, self.w - b * 1.5
        top, bottom = self.top + b, self.h - b * 3.2 - legend_h

        def y_of(v: float) -> float:
            return bottom - (v - low) / (high - low) * (bottom - top)

        ticks = round((high - low) / step)
        for k in range(ticks + 1):
            value = low + k * step
            y = y_of(value)
            self.draw.line([left, y, right, y], fill="#e3e3e3", width=max(1, SCALE))
            self.draw.text((left - b * 0.5, y), _fmt(value), fill="#555555", font=self.small, anchor="rm")
        n = len(labels)
        slot = (right - left) / n
        every = max(1, math.ceil(n / max(1, (right - left) / (b * 4))))
        for i, label in enumerate(labels):
            if i % every == 0:
                text = _fit(self.draw, label, self.small, slot * every - b * 0.3)
                self.draw.text((left + slot * (i + 0.5), bottom + b * 0.5), text, fill="#555555", font=self.small,
                               anchor="ma")  # fmt: skip
        zero = y_of(0.0)
        if kind == "bar":
            group = slot * 0.8
            bar = group / len(series)
            for s, (_, vs) in enumerate(series):
                colour = PALETTE[s % len(PALETTE)]
                for i, v in enumerate(vs):
                    x0 = left + slot * i + slot * 0.1 + bar * s
                    y0, y1 = sorted((zero, y_of(v)))
                    self.draw.rectangle([x0, y0, x0 + bar - max(1, bar * 0.06), y1], fill=colour)
        else:
            for s, (_, vs) in enumerate(series):
                colour = PALETTE[s % len(PALETTE)]
                points = [(left + slot * (i + 0.5), y_of(v)) for i, v in enumerate(vs)]
                if len(points) > 1:
                    self.draw.line(points, fill=colour, width=max(2, b // 5), joint="curve")
                r = max(3, b // 3)
                for x, y in points:
                    self.draw.ellipse([x - r, y - r, x + r, y + r], fill=colour)
        self.draw.line([left, zero, right, zero], fill="#888888", width=max(1, SCALE))
        self.draw.line([left, top, left, bottom], fill="#888888", width=max(1, SCALE))

    def pie(self, labels: list[str], values: list[float]) -> None:
        if any(v < 0 for v in values):
            raise InputRejected("A pie chart can't show negative values", 400)
        total = sum(values)
        if total <= 0:
            raise InputRejected("A pie chart needs values above zero", 400)
        b = self.base
        names = [f"{label} ({100 * v / total:.1f}%)" for label, v in zip(labels, values, strict=True)]
        legend_w = min(self.w * 0.4, max(self.draw.textlength(n, font=self.small) for n in names) + b * 3)
        size = min(self.w - legend_w - b * 4, self.h - self.top - b * 2)
        cx, cy = b * 2 + size / 2, self.top + (self.h - self.top) / 2
        angle = -90.0
        for i, v in enumerate(values):
            sweep = 360 * v / total
            if sweep > 0:
                box = [cx - size / 2, cy - size / 2, cx + size / 2, cy + size / 2]
                self.draw.pieslice(box, angle, angle + sweep, fill=PALETTE[i % len(PALETTE)], outline="white",
                                   width=SCALE)  # fmt: skip
            angle += sweep
        x = cx + size / 2 + b * 2
        y = self.top + b
        for i, name in enumerate(names[: int((self.h - y) // (b * 1.6))]):
            self.draw.rectangle([x, y, x + b, y + b], fill=PALETTE[i % len(PALETTE)])
            text = _fit(self.draw, name, self.small, self.w - x - b * 2.5)
            self.draw.text((x + b * 1.5, y + b / 2), text, fill="#333333", font=self.small, anchor="lm")
            y += b * 1.6

    def save(self, path: Path, width: int, height: int) -> None:
        from PIL import Image

        self.image.resize((width, height), Image.Resampling.LANCZOS).save(path, "PNG", optimize=True)


@tool(
    id="chart-maker",
    section="files",
    title="Chart Maker",
    description="Draw a bar, line or pie chart as a PNG from CSV (first column labels, other numeric columns "
    "series) or JSON (array of objects, label -> number object, or labels + series).",
    settings=ChartMakerSettings,
    inputs=Inputs(kinds=("csv", "txt", "json")),
    formats=("csv", "json"),
)
def run(ctx: ToolContext, settings: ChartMakerSettings) -> ToolResult:
    labels, series = load_series(ctx.input.path, ctx.input.kind)
    chart = Chart(settings)
    if settings.kind == "pie":
        chart.pie(labels, series[0][1])
    else:
        chart.axes(labels, series, settings.kind)
    out = ctx.output_path(f"{ctx.input.stem}-{settings.kind}-chart.png")
    chart.save(out, settings.width, settings.height)
    return ToolResult(
        [out],
        {"kind": settings.kind, "width": settings.width, "height": settings.height, "points": len(labels),
         "series": [name for name, _ in series], "colors": PALETTE[: len(series) if settings.kind != "pie"
                                                                   else len(labels)]},
    )  # fmt: skip
