"""Text recognition for the ocr tool: Tesseract (fast tier) and RapidOCR with PaddleOCR's PP-OCRv6
models (balanced and best), giving the same answer shape: lines with text, confidence and box.

RapidOCR never downloads here: its models are the manifest's packaged files (rapidocr's own models
folder), passed by path, and its ONNX sessions come from Lutra's session cache (app/engine/media/onnx.py),
so loading, provider choice and idle drop work as for every other model. RapidOCR's recogniser reads
its alphabet from the model file's metadata, so it never fetches a dictionary either.

PP-OCRv6 reads Chinese, Japanese and Latin scripts (English, German, French, Spanish ...) with one
model, so `language` only matters to Tesseract; it has no Korean (Hangul), so language ko is read by
Tesseract whatever the quality.

numpy, OpenCV and RapidOCR are imported inside the functions that use them: the PDF OCR tool takes
the language table from here, in the server process.
"""

from __future__ import annotations

import csv
import shutil
import statistics
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyvips

from app.engine.ai import bundles
from app.engine.media import process
from app.engine.tool import ToolContext, ToolFailure

if TYPE_CHECKING:
    import numpy as np

BUNDLE = "ocr"
# Lutra's language setting -> Tesseract's traineddata names. Tesseract can't detect a language:
# auto reads the Latin-script languages installed here together.
TESSERACT_LANGUAGES = {
    "auto": "eng+deu+fra+spa",
    "en": "eng",
    "de": "deu",
    "fr": "fra",
    "es": "spa",
    "zh": "chi_sim",
    "ja": "jpn",
    "ko": "kor",
}
TESSERACT_TIMEOUT_S = 300
SMALL_TEXT_PX = 20  # best: lines lower than this (median) are read again from a 2x enlargement
# best: the detector misses small text on a big page seen whole (a 2400x1600 page with 10 px text: nothing),
# so pages with a side longer than TILE_ABOVE_PX are searched in overlapping tiles at full resolution.
TILE_ABOVE_PX = 1600
TILE_PX = 1280
TILE_OVERLAP_PX = 128


@dataclass
class Line:
    text: str
    confidence: float  # 0..1
    points: list[list[float]]  # 4 corners, clockwise from top-left, in input pixels

    @property
    def box(self) -> list[int]:
        xs = [p[0] for p in self.points]
        ys = [p[1] for p in self.points]
        return [round(min(xs)), round(min(ys)), round(max(xs) - min(xs)), round(max(ys) - min(ys))]

    def scaled(self, factor: float) -> Line:
        return Line(self.text, self.confidence, [[x / factor, y / factor] for x, y in self.points])

    def as_json(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "confidence": round(self.confidence, 4),
            "box": self.box,
            "points": [[round(x, 1), round(y, 1)] for x, y in self.points],
        }


def full_text(lines: list[Line]) -> str:
    """Lines in reading order; pieces side by side on one row joined by a space."""
    rows: list[list[Line]] = []
    for line in sorted(lines, key=lambda ln: (ln.box[1], ln.box[0])):
        _, y, _, h = line.box
        centre = y + h / 2
        last = rows[-1][-1].box if rows else None
        if last is not None and last[1] <= centre <= last[1] + last[3]:
            rows[-1].append(line)
        else:
            rows.append([line])
    return "\n".join(" ".join(ln.text for ln in sorted(row, key=lambda ln: ln.box[0])) for row in rows)


# --- pre-processing --------------------------------------------------------------------------------


def enhance(image: pyvips.Image) -> tuple[pyvips.Image, float]:
    """Grey, contrast stretched to the full range, small images enlarged 2x; (image, scale factor)."""
    grey = image.colourspace("b-w").extract_band(0)
    low, high = grey.percent(1), grey.percent(99)
    if high - low >= 16:
        grey = ((grey - low) * (255.0 / (high - low))).cast("uchar")  # cast clips at 0 and 255
    factor = 2.0 if max(grey.width, grey.height) < 1200 else 1.0
    if factor != 1.0:
        grey = grey.resize(factor, kernel="lanczos3")
    return grey.copy(interpretation="b-w"), factor


# --- Tesseract -------------------------------------------------------------------------------------


def tesseract(ctx: ToolContext, image: pyvips.Image, language: str) -> list[Line]:
    """Tesseract (Debian's, LSTM engine) on the image; lines built from its word boxes."""
    if shutil.which("tesseract") is None:
        raise ToolFailure("Tesseract is not installed on this server (the fast OCR tier needs it)")
    scratch = ctx.workdir / ".tesseract"
    scratch.mkdir(parents=True, exist_ok=True)
    try:
        source = scratch / "page.png"
        image.write_to_file(str(source))
        cmd = ["tesseract", str(source), str(scratch / "out"), "-l", TESSERACT_LANGUAGES[language], "--psm", "3",
               "tsv"]  # fmt: skip
        env = {"PATH": "/usr/bin:/bin", "HOME": str(scratch.resolve()), "LANG": "C.UTF-8", "OMP_THREAD_LIMIT": "1"}
        process.run_program(cmd, ctx, what="OCR", timeout_s=TESSERACT_TIMEOUT_S, env=env)
        tsv = (scratch / "out.tsv").read_text(encoding="utf-8", errors="replace")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return parse_tsv(tsv)


def parse_tsv(tsv: str) -> list[Line]:
    """Tesseract's TSV (one row per word) -> one Line per text line."""
    words: dict[tuple[str, ...], list[dict[str, str]]] = {}
    for row in csv.DictReader(tsv.splitlines(), delimiter="\t", quoting=csv.QUOTE_NONE):
        text = (row.get("text") or "").strip()
        if row.get("level") != "5" or not text or float(row.get("conf") or -1) < 0:
            continue
        key = (row["page_num"], row["block_num"], row["par_num"], row["line_num"])
        words.setdefault(key, []).append(row)
    lines = []
    for group in words.values():
        x0 = min(int(w["left"]) for w in group)
        y0 = min(int(w["top"]) for w in group)
        x1 = max(int(w["left"]) + int(w["width"]) for w in group)
        y1 = max(int(w["top"]) + int(w["height"]) for w in group)
        text = " ".join(w["text"].strip() for w in group)
        confidence = statistics.fmean(float(w["conf"]) for w in group) / 100
        lines.append(Line(text, confidence, [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]))
    return lines


# --- RapidOCR --------------------------------------------------------------------------------------

_engines: dict[tuple[Any, ...], Any] = {}
_engines_lock = threading.Lock()


def _engine(best: bool) -> Any:
    """A RapidOCR pipeline over Lutra's cached sessions of the packaged PP-OCR models."""
    from app.engine.media import onnx

    paths = {part: bundles.model_path(f"ppocr-{part}", BUNDLE) for part in ("det", "rec", "cls")}
    sessions = {part: onnx.session(path) for part, path in paths.items()}
    key = (best, *(id(s) for s in sessions.values()))
    with _engines_lock:
        engine = _engines.get(key)
        if engine is None:
            engine = _build(paths, sessions, best)
            _engines.clear()  # sessions dropped by the cache must not live on here
            _engines[key] = engine
        return engine


def _build(paths: dict[str, Path], sessions: dict[str, Any], best: bool) -> Any:
    from rapidocr import RapidOCR
    from rapidocr.ch_ppocr_cls import TextClassifier
    from rapidocr.ch_ppocr_det import TextDetector
    from rapidocr.ch_ppocr_rec import TextRecognizer

    class Pipeline(RapidOCR):  # type: ignore[misc]
        def cls_and_rotate(self, img: list[np.ndarray]) -> tuple[list[np.ndarray], Any]:
            # The direction classifier often calls a long single line upside down; a turn is
            # kept only where the recogniser is surer of the turned line than of the original.
            classified = self._load_cls_model()(img)
            turned = [i for i, (label, score) in enumerate(classified.cls_res)
                      if "180" in label and score > self.cfg.Cls.cls_thresh]  # fmt: skip
            lines = list(img)
            if turned:
                rec = self._load_rec_model()
                from rapidocr.ch_ppocr_rec import TextRecInput

                before = rec(TextRecInput(img=[img[i] for i in turned])).scores
                after = rec(TextRecInput(img=[classified.img_list[i] for i in turned])).scores
                for i, old, new in zip(turned, before, after, strict=True):
                    if new > old:
                        lines[i] = classified.img_list[i]
            return lines, classified

    params: dict[str, Any] = {
        "Global.log_level": "error",
        "Global.use_cls": best,
        "Global.max_side_len": 4096 if best else 2000,
        # balanced: the detector sees the picture at most 960 px wide (PaddleOCR's classic setting, fast);
        # best: at least 736 px on its short side (RapidOCR's default: small pictures are enlarged).
        "Det.limit_type": "min" if best else "max",
        "Det.limit_side_len": 736 if best else 960,
        "Det.model_path": str(paths["det"]),
        "Rec.model_path": str(paths["rec"]),
        "Cls.model_path": str(paths["cls"]),
    }
    engine = Pipeline(params=params)
    cfg = engine.cfg
    for part, section, kind, attr in (
        ("det", "Det", TextDetector, "text_det"),
        ("rec", "Rec", TextRecognizer, "text_rec"),
        ("cls", "Cls", TextClassifier, "text_cls"),
    ):
        sub = cfg[section]
        sub.engine_cfg = cfg.EngineConfig[sub.engine_type.value]
        sub.model_root_dir = str(paths[part].parent)
        sub.font_path = None
        sub = sub.copy()
        sub._set_flag("allow_objects", True)
        sub.session = sessions[part]  # RapidOCR's "bring your own InferenceSession" option
        setattr(engine, attr, kind(sub))
    return engine


def _rapid_pass(engine: Any, bgr: np.ndarray, best: bool, ctx: ToolContext | None = None) -> list[Line]:
    if best and max(bgr.shape[:2]) > TILE_ABOVE_PX:
        return _tiled_pass(engine, bgr, ctx)
    result = engine(bgr)
    if getattr(result, "txts", None) is None or result.boxes is None:
        return []
    lines = []
    for points, text, score in zip(result.boxes, result.txts, result.scores, strict=True):
        if text.strip():
            lines.append(Line(text.strip(), float(score), [[float(x), float(y)] for x, y in points]))
    return lines


def tiles(length: int) -> list[tuple[int, int]]:
    """(start, end) of the fewest spans at most TILE_PX long, overlapping by at least TILE_OVERLAP_PX, that
    cover 0..length."""
    if length <= TILE_PX:
        return [(0, length)]
    count = -(-(length - TILE_OVERLAP_PX) // (TILE_PX - TILE_OVERLAP_PX))
    size = -(-(length + (count - 1) * TILE_OVERLAP_PX) // count)
    step = (length - size) / (count - 1)
    return [(round(i * step), round(i * step) + size) for i in range(count)]


def _bounds(points: np.ndarray) -> tuple[float, float, float, float]:
    return float(points[:, 0].min()), float(points[:, 1].min()), float(points[:, 0].max()), float(points[:, 1].max())


def _same_line(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    """Two boxes from neighbouring tiles are one line: one mostly holds the other, or they share a row
    (heights mostly overlapping) and overlap side by side (a line cut by a tile's edge)."""
    across = min(a[2], b[2]) - max(a[0], b[0])
    down = min(a[3], b[3]) - max(a[1], b[1])
    if across <= 0 or down <= 0:
        return False
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return across * down >= 0.5 * smaller or down >= 0.5 * min(a[3] - a[1], b[3] - b[1])


def merge_boxes(found: list[tuple[int, np.ndarray]]) -> list[np.ndarray]:
    """Boxes (tile number, 4 corners in page pixels) -> one box per line: boxes from different tiles that are
    the same line become the rectangle around them all; boxes from one tile are never merged (the detector
    already told them apart)."""
    import numpy as np

    groups: list[tuple[set[int], tuple[float, float, float, float], np.ndarray]] = []
    for tile, points in found:
        seen, bounds = {tile}, _bounds(points)
        i = 0
        while i < len(groups):
            other_seen, other, _ = groups[i]
            if seen & other_seen or not _same_line(bounds, other):
                i += 1
                continue
            del groups[i]
            seen |= other_seen
            x0, y0 = min(bounds[0], other[0]), min(bounds[1], other[1])
            x1, y1 = max(bounds[2], other[2]), max(bounds[3], other[3])
            bounds = (x0, y0, x1, y1)
            points = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float32)
            i = 0  # the bigger box may now meet a group it missed
        groups.append((seen, bounds, points))
    return [points for _, _, points in groups]


def _tiled_pass(engine: Any, bgr: np.ndarray, ctx: ToolContext | None) -> list[Line]:
    """Detection tile by tile at full resolution, boxes mapped to the page and merged where tiles overlap,
    then the direction classifier and the recogniser on crops of the whole page."""
    import numpy as np
    from rapidocr.ch_ppocr_det import TextDetector

    height, width = bgr.shape[:2]
    spans = [(across, down) for down in tiles(height) for across in tiles(width)]
    found: list[tuple[int, np.ndarray]] = []
    for number, ((x0, x1), (y0, y1)) in enumerate(spans):
        if ctx is not None:
            ctx.check_cancelled()
            ctx.progress(20 + 50 * number / len(spans), f"Finding text: part {number + 1} of {len(spans)}")
        result = engine.text_det(np.ascontiguousarray(bgr[y0:y1, x0:x1]))
        if result.boxes is not None:
            found += [(number, box + np.array([x0, y0], np.float32)) for box in result.boxes]
    boxes = merge_boxes(found)
    if not boxes:
        return []
    if ctx is not None:
        ctx.check_cancelled()
        ctx.progress(70, f"Reading {len(boxes)} lines")
    boxes = list(TextDetector.sorted_boxes(np.array(boxes, np.float32)))
    crops, _ = engine.cls_and_rotate(engine.crop_text_regions(bgr, boxes))
    rec = engine.recognize_txt(crops)
    lines = []
    for points, text, score in zip(boxes, rec.txts, rec.scores, strict=True):
        if text.strip() and score >= engine.text_score:
            lines.append(Line(text.strip(), float(score), [[float(x), float(y)] for x, y in points]))
    return lines


def rapid(rgb: np.ndarray, best: bool = False, ctx: ToolContext | None = None) -> list[Line]:
    """PP-OCRv6 on an RGB (or grey) array. best: also the direction classifier, pages with a side over
    TILE_ABOVE_PX searched tile by tile (ctx: cancellation and progress per tile), and small text read
    again from a 2x enlargement (kept when the recogniser is surer of it)."""
    import numpy as np

    if rgb.ndim == 2:
        rgb = np.stack([rgb] * 3, axis=-1)
    engine = _engine(best)
    bgr = np.ascontiguousarray(rgb[:, :, ::-1])  # RapidOCR, like OpenCV, takes BGR
    lines = _rapid_pass(engine, bgr, best, ctx)
    if not best or not lines:
        return lines
    height = statistics.median(line.box[3] for line in lines)
    if height >= SMALL_TEXT_PX or max(bgr.shape[:2]) * 2 > 4096:
        return lines
    import cv2

    bigger = cv2.resize(bgr, None, fx=2, fy=2, interpolation=cv2.INTER_LANCZOS4)
    again = [line.scaled(2.0) for line in _rapid_pass(engine, bigger, best, ctx)]
    if again and statistics.fmean(ln.confidence for ln in again) >= statistics.fmean(ln.confidence for ln in lines):
        return again
    return lines
