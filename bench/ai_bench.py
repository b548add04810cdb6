"""Benchmark: Lutra's AI tools through the HTTP API against a bare run of the same model in the same run.

Run by hand (never in CI):  .venv/bin/python bench/ai_bench.py [--runs 5] [--only transcribe-audio]

For each AI tool backed by a packaged model it measures, on the same machine and the same input:
  * bare: the model alone in this process. ONNX models: `onnxruntime.InferenceSession(...)` and
    `session.run` on a tensor of the shape the tool feeds (cold = session creation + first run, warm =
    later runs; no pre/post-processing). Transcription: faster-whisper's WhisperModel on the decoded
    16 kHz samples (cold = model load + first transcribe, warm = later transcribes);
  * API: POST /api/v1/tools/... + the job's SSE stream to its completed frame (or the 200 answer) + GET
    of the result, against a real `lutra serve` started for that tool alone with a fresh DATA_DIR and
    one worker. Cold = the first request, which starts the worker process and loads the model (what a
    user meets after the server was idle); warm = the median of the next --runs requests. Every request
    sends a slightly different file (one pixel or a quiet sample changed), so a tool's result cache
    (remove-background keeps masks by upload hash) never answers instead of the model;
and prints the warm ratio API/bare, the absolute overhead and the cold figures (the issue's target:
warm overhead under 10%). A tool not registered yet, or whose feature is not installed, is skipped with
a message. Results also go to bench/results/ai_bench.json and .txt.

Bare inputs, per model: u2netp gets [1,3,320,320] (remove-background resizes to the model's side).
PP-OCR det gets the text picture at multiples of 32 (long side <= 960) and rec one [1,3,48,W] crop per
line, batched: the shapes PaddleOCR's default pre-processing makes; the OCR tool's own may differ.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pyvips

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.engine.ai import bundles  # noqa: E402
from bench.resize_bench import api_key, follow_job, free_port, start_server  # noqa: E402

RESULTS = ROOT / "bench" / "results"
OCR_LINES = ("Lutra reads this line of text", "on your own computer, offline", "PP-OCR detection 2026")
SPEECH = (
    "I would like to order a cup of coffee please. Please call me when you get home tonight. "
    "The meeting starts at nine in the morning."
)
CLIP_S = 10.0


# -- inputs ---------------------------------------------------------------------------


def photo(path: Path, variant: int) -> None:
    """A 1024x768 photo-like picture with a subject: a shaded disc on a gradient with noise."""
    w, h = 1024, 768
    xyz = pyvips.Image.xyz(w, h)
    x, y = xyz[0], xyz[1]
    ground = (x * 120 / w + 60).bandjoin([y * 100 / h + 80, (x + y) * 60 / (w + h) + 150])
    d = ((x - w / 2) ** 2 + (y - h / 2) ** 2) ** 0.5
    disc = (d < 230).ifthenelse([200, 60, 40], ground)
    image = (disc + pyvips.Image.gaussnoise(w, h, sigma=8)).cast("uchar")
    image = image.draw_rect([variant % 256, 0, 0], 0, 0, 1, 1, fill=True)  # one pixel: a new upload hash
    image.pngsave(str(path))


def text_picture(path: Path, variant: int) -> list[tuple[int, int, int, int]]:
    """Three lines of black text on white (960x320); returns each line's box (left, top, width, height)."""
    w, h = 960, 320
    canvas = pyvips.Image.black(w, h, bands=3).invert()
    boxes = []
    for n, line in enumerate(OCR_LINES):
        text = pyvips.Image.text(line, font="DejaVu Sans 30", dpi=72)
        left, top = 40, 30 + 90 * n
        canvas = text.embed(left, top, w, h).ifthenelse([0, 0, 0], canvas, blend=True)
        boxes.append((left - 4, top - 4, text.width + 8, text.height + 8))
    canvas = canvas.draw_rect([250 - variant % 5, 255, 255], w - 1, h - 1, 1, 1, fill=True)
    canvas.cast("uchar").pngsave(str(path))
    return boxes


def speech_clip(path: Path, variant: int) -> None:
    """A 10 s MP3 of espeak-ng speech (padded with silence); variants differ by a very quiet tone."""
    wav = path.with_suffix(".wav")
    subprocess.run(["espeak-ng", "-s", "140", "-w", str(wav), SPEECH], check=True)
    tone = f"sine=frequency={1000 + variant}:sample_rate=22050:duration={CLIP_S}"
    graph = f"[0:a]apad,atrim=0:{CLIP_S}[s];[1:a]volume=0.001[t];[s][t]amix=inputs=2:normalize=0"
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(wav), "-f", "lavfi", "-i", tone]
        + ["-filter_complex", graph, "-c:a", "libmp3lame", "-b:a", "64k", str(path)],
        check=True,
    )


def samples_16k(path: Path) -> np.ndarray:
    raw = subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-ac", "1", "-ar", "16000", "-f", "s16le", "-"],
        capture_output=True,
        check=True,
    ).stdout
    return np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0


def tensor(image: pyvips.Image, width: int, height: int) -> np.ndarray:
    """[1,3,H,W] float32 in 0..1 of an RGB picture resized to width x height."""
    resized = image.resize(width / image.width, vscale=height / image.height)
    array = np.ndarray(buffer=resized.write_to_memory(), dtype=np.uint8, shape=(height, width, 3))
    return (array.astype(np.float32) / 255.0).transpose(2, 0, 1)[None]


# -- bare runs ------------------------------------------------------------------------


def onnx_session(path: Path) -> Any:
    import onnxruntime as ort

    from app.config import get_settings
    from app.engine.media.onnx import choose_providers

    options = ort.SessionOptions()
    options.log_severity_level = 3
    if get_settings().ai_threads > 0:
        options.intra_op_num_threads = get_settings().ai_threads
    providers = choose_providers(ort.get_available_providers(), get_settings().onnx_providers)
    return ort.InferenceSession(str(path), sess_options=options, providers=providers)


def bare_times(load: Callable[[], Any], run: Callable[[Any], Any], runs: int) -> tuple[float, list[float]]:
    """Cold (load + first run) and the warm runs after it."""
    start = time.perf_counter()
    model = load()
    run(model)
    cold = time.perf_counter() - start
    warm = []
    for _ in range(runs):
        start = time.perf_counter()
        run(model)
        warm.append(time.perf_counter() - start)
    return cold, warm


def bare_u2netp(work: Path, runs: int) -> tuple[float, list[float]]:
    path = bundles.model_path("u2netp")
    feed = tensor(pyvips.Image.new_from_file(str(work / "photo0.png")), 320, 320)
    mean = np.array([0.485, 0.456, 0.406], np.float32)[:, None, None]
    std = np.array([0.229, 0.224, 0.225], np.float32)[:, None, None]
    feed = ((feed - mean) / std).astype(np.float32)

    def run(session: Any) -> Any:
        return session.run(None, {session.get_inputs()[0].name: feed})

    return bare_times(lambda: onnx_session(path), run, runs)


def bare_ppocr(work: Path, runs: int) -> tuple[float, list[float]]:
    det_path, rec_path = bundles.model_path("ppocr-det"), bundles.model_path("ppocr-rec")
    image = pyvips.Image.new_from_file(str(work / "text0.png"))
    scale = min(1.0, 960 / max(image.width, image.height))
    det_w, det_h = (max(32, round(side * scale / 32) * 32) for side in (image.width, image.height))
    det_feed = tensor(image, det_w, det_h)
    crops = [image.crop(*box) for box in json.loads((work / "text_boxes.json").read_text())]
    rec_w = max(round(48 * c.width / c.height) for c in crops)
    rec_feed = np.zeros((len(crops), 3, 48, rec_w), np.float32)
    for i, crop in enumerate(crops):
        width = round(48 * crop.width / crop.height)
        rec_feed[i, :, :, :width] = tensor(crop, width, 48)[0] * 2 - 1  # PaddleOCR's rec takes -1..1

    def load() -> Any:
        return onnx_session(det_path), onnx_session(rec_path)

    def run(sessions: Any) -> Any:
        det, rec = sessions
        det.run(None, {det.get_inputs()[0].name: det_feed})
        return rec.run(None, {rec.get_inputs()[0].name: rec_feed})

    return bare_times(load, run, runs)


def bare_whisper(work: Path, runs: int) -> tuple[float, list[float]]:
    from app.engine.media import speech

    samples = samples_16k(work / "speech0.mp3")
    path = bundles.model_path(speech.ENGLISH_MODEL)

    def run(model: Any) -> Any:
        found, _ = model.transcribe(samples, language="en", **speech.TRANSCRIBE_OPTIONS)
        return list(found)

    return bare_times(lambda: speech._load(path), run, runs)


# -- API runs -------------------------------------------------------------------------


def call(client: httpx.Client, path: str, src: Path, settings: dict[str, Any]) -> float:
    """POST + (SSE to the terminal frame) + GET of the result; wall seconds."""
    start = time.perf_counter()
    with src.open("rb") as f:
        r = client.post(path, files={"file": (src.name, f)}, data={"settings": json.dumps(settings)})
    if r.status_code == 202:
        final = follow_job(client, r.json()["jobId"])
        if final.get("status") != "completed":
            raise RuntimeError(f"{path}: job did not complete: {final}")
        result = final["result"]
    elif r.status_code == 200:
        result = r.json()
    else:
        raise RuntimeError(f"{path} answered {r.status_code}: {r.text[:300]}")
    got = client.get(result["downloadUrl"])
    got.raise_for_status()
    return time.perf_counter() - start


@dataclass
class Case:
    tool: str
    section: str
    model: str
    input: str
    files: Callable[[Path, int], Path]
    bare: Callable[[Path, int], tuple[float, list[float]]]
    settings: dict[str, Any] = field(default_factory=dict)


def api_times(case: Case, work: Path, runs: int) -> tuple[float, list[float]] | str:
    """Cold and warm API times on a fresh server, or the reason the tool was skipped."""
    port = free_port()
    data = work / f"data-{case.tool}"
    os.environ["CONCURRENT_JOBS"] = "1"  # one worker: every warm request finds the model loaded
    server = start_server(data, port)
    try:
        base = f"http://127.0.0.1:{port}"
        key = api_key(base)
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=900) as client:
            info = client.get(f"/api/v1/tools/{case.section}/{case.tool}")
            if info.status_code == 404:
                return f"{case.tool} is not registered yet"
            if info.json().get("featureInstalled") is False:
                return f"{case.tool}: its AI feature is not installed here"
            path = f"/api/v1/tools/{case.section}/{case.tool}"
            cold = call(client, path, case.files(work, 0), case.settings)
            warm = [call(client, path, case.files(work, i), case.settings) for i in range(1, runs + 1)]
            return cold, warm
    finally:
        server.terminate()
        server.wait(timeout=10)


def inputs(work: Path, runs: int) -> None:
    for i in range(runs + 1):
        photo(work / f"photo{i}.png", i)
        boxes = text_picture(work / f"text{i}.png", i)
        speech_clip(work / f"speech{i}.mp3", i)
    (work / "text_boxes.json").write_text(json.dumps(boxes))


CASES = (
    Case(
        "remove-background",
        "image",
        "u2netp (ONNX)",
        "1024x768 PNG",
        lambda w, i: w / f"photo{i}.png",
        bare_u2netp,
        {"model": "u2netp"},
    ),
    Case(
        "ocr",
        "image",
        "PP-OCRv6 det+rec (ONNX)",
        "960x320 PNG, 3 lines",
        lambda w, i: w / f"text{i}.png",
        bare_ppocr,
        {"quality": "balanced"},
    ),
    Case(
        "transcribe-audio",
        "audio",
        "whisper tiny.en (CTranslate2 int8)",
        f"{CLIP_S:.0f} s MP3 speech",
        lambda w, i: w / f"speech{i}.mp3",
        bare_whisper,
        {"language": "en"},
    ),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="warm runs of each, after the cold one")
    parser.add_argument("--only", action="append", help="tool id(s) to measure (default: all)")
    args = parser.parse_args()
    import onnxruntime as ort

    header = (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores; onnxruntime {ort.__version__} "
        f"({', '.join(ort.get_available_providers())}); {args.runs} warm runs, medians"
    )
    rows: list[dict[str, Any]] = []
    skipped: list[str] = []
    with tempfile.TemporaryDirectory(prefix="lutra-ai-bench-") as tmp:
        work = Path(tmp)
        inputs(work, args.runs)
        for case in CASES:
            if args.only and case.tool not in args.only:
                continue
            measured = api_times(case, work, args.runs)
            if isinstance(measured, str):
                skipped.append(measured)
                print(f"skipped: {measured}", flush=True)
                continue
            api_cold, api_warm = measured
            bare_cold, bare_warm = case.bare(work, args.runs)
            bw, aw = statistics.median(bare_warm), statistics.median(api_warm)
            rows.append(
                {
                    "tool": case.tool,
                    "model": case.model,
                    "input": case.input,
                    "bareColdS": bare_cold,
                    "apiColdS": api_cold,
                    "bareWarmS": bw,
                    "apiWarmS": aw,
                    "warmRatio": aw / bw,
                    "warmOverheadMs": (aw - bw) * 1000,
                    "bareWarmRunsS": bare_warm,
                    "apiWarmRunsS": api_warm,
                }
            )
            print(f"measured {case.tool}", flush=True)
    lines = [header, ""]
    lines.append(
        f"{'tool':<18} {'model':<34} {'input':<21} | {'bare cold':>9} {'API cold':>9} | "
        f"{'bare warm':>9} {'API warm':>9} {'ratio':>6} {'overhead':>9}"
    )
    for r in rows:
        lines.append(
            f"{r['tool']:<18} {r['model']:<34} {r['input']:<21} | {r['bareColdS']:>8.2f}s {r['apiColdS']:>8.2f}s | "
            f"{r['bareWarmS']:>8.3f}s {r['apiWarmS']:>8.3f}s {r['warmRatio']:>6.2f} {r['warmOverheadMs']:>7.0f}ms"
        )
    lines += [f"skipped: {s}" for s in skipped]
    table = "\n".join(lines)
    print("\n" + table)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "ai_bench.txt").write_text(table + "\n")
    (RESULTS / "ai_bench.json").write_text(json.dumps({"machine": header, "rows": rows, "skipped": skipped}, indent=2))


if __name__ == "__main__":
    main()
