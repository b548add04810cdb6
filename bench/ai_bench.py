"""Benchmark: Lutra's AI tools through the HTTP API against a bare run of the same model in the same run.

Run by hand (never in CI):  .venv/bin/python bench/ai_bench.py [--runs 5] [--only transcribe-audio]

For each AI tool backed by a packaged model it measures, on the same machine and the same input:
  * bare: the model alone in this process. ONNX models: fresh `onnxruntime.InferenceSession`s and the
    exact `session.run` calls Lutra's engine code makes for the input (recorded once, replayed: same
    models, same tensors, no pre/post-processing); cold = session creation + first run, warm = later
    runs. Transcription: faster-whisper's WhisperModel on the decoded 16 kHz samples with the tool's
    options (cold = model load + first transcribe, warm = later transcribes);
  * API: POST /api/v1/tools/... + the job's SSE stream to its completed frame (or the 200 answer) + GET
    of the result, against a real `lutra serve` started for that tool alone with a fresh DATA_DIR and
    one worker. Cold = the first request, which starts the worker process and loads the model (what a
    user meets after the server was idle); warm = the median of the next --runs requests. Every request
    sends a slightly different file (one pixel or a quiet sample changed), so a tool's result cache
    (remove-background keeps masks by upload hash) never answers instead of the model;
and prints the warm ratio API/bare, the absolute overhead and the cold figures (the issue's target:
warm overhead under 10%); the fastest warm run of each is shown too, as the figure least disturbed by
other load on a busy machine. A tool not registered yet, or whose feature is not installed, is skipped with
a message. Results also go to bench/results/ai_bench.json and .txt.
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


def text_picture(path: Path, variant: int) -> None:
    """Three lines of black text on white (960x320)."""
    w, h = 960, 320
    canvas = pyvips.Image.black(w, h, bands=3).invert()
    for n, line in enumerate(OCR_LINES):
        text = pyvips.Image.text(line, font="DejaVu Sans 30", dpi=72)
        left, top = 40, 30 + 90 * n
        canvas = text.embed(left, top, w, h).ifthenelse([0, 0, 0], canvas, blend=True)
    canvas = canvas.draw_rect([250 - variant % 5, 255, 255], w - 1, h - 1, 1, 1, fill=True)
    canvas.cast("uchar").pngsave(str(path))


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


# -- bare runs ------------------------------------------------------------------------


def onnx_session(path: str) -> Any:
    """A plain InferenceSession with the options and providers Lutra's sessions get."""
    import onnxruntime as ort

    from app.config import get_settings
    from app.engine.media.onnx import choose_providers

    options = ort.SessionOptions()
    options.log_severity_level = 3
    if get_settings().ai_threads > 0:
        options.intra_op_num_threads = get_settings().ai_threads
    providers = choose_providers(ort.get_available_providers(), get_settings().onnx_providers)
    return ort.InferenceSession(path, sess_options=options, providers=providers)


Bare = tuple[Callable[[], Any], Callable[[Any], Any]]  # load the model(s); one run on the input


Feeds = list[tuple[str, dict[str, np.ndarray]]]


def captured_feeds(engine_call: Callable[[], Any]) -> Feeds:
    """Every InferenceSession.run that Lutra's own engine code makes for one input: (model path, feeds).

    Replaying them on fresh sessions is the bare run of the same models on the same tensors."""
    import onnxruntime as ort

    calls: Feeds = []
    original = ort.InferenceSession.run

    def spy(self: Any, output_names: Any, input_feed: dict[str, Any], run_options: Any = None) -> Any:
        calls.append((str(self._model_path), {k: np.array(v, copy=True) for k, v in input_feed.items()}))
        return original(self, output_names, input_feed, run_options)

    ort.InferenceSession.run = spy  # type: ignore[method-assign]
    try:
        engine_call()
    finally:
        ort.InferenceSession.run = original  # type: ignore[method-assign]
    return calls


def bare_replay(calls: Feeds) -> Bare:
    paths = list(dict.fromkeys(path for path, _ in calls))

    def run(sessions: dict[str, Any]) -> None:
        for path, feed in calls:
            sessions[path].run(None, feed)

    return lambda: {p: onnx_session(p) for p in paths}, run


def bare_u2netp(work: Path) -> Bare:
    from app.engine.media import segment

    rgb = pyvips.Image.new_from_file(str(work / "photo0.png"))
    return bare_replay(captured_feeds(lambda: segment.predict(rgb, "u2netp")))


def bare_ppocr(work: Path) -> Bare:
    from app.engine.media import ocr

    image = pyvips.Image.new_from_file(str(work / "text0.png"))
    rgb = np.ndarray(buffer=image.write_to_memory(), dtype=np.uint8, shape=(image.height, image.width, 3))
    return bare_replay(captured_feeds(lambda: ocr.rapid(rgb, best=False)))


def bare_whisper(work: Path) -> Bare:
    from app.engine.media import speech

    samples = samples_16k(work / "speech0.mp3")
    path = bundles.model_path(speech.ENGLISH_MODEL)

    def run(model: Any) -> Any:
        found, _ = model.transcribe(samples, language="en", **speech.TRANSCRIBE_OPTIONS)
        return list(found)

    return lambda: speech._load(path), run


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
    bare: Callable[[Path], Bare]
    settings: dict[str, Any] = field(default_factory=dict)


@dataclass
class Times:
    api_cold: float
    bare_cold: float
    api_warm: list[float] = field(default_factory=list)
    bare_warm: list[float] = field(default_factory=list)


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def first_run(load: Callable[[], Any], run: Callable[[Any], Any]) -> Any:
    model = load()
    run(model)
    return model


def measure(case: Case, work: Path, runs: int) -> Times | str:
    """API and bare times on a fresh server, or the reason the tool was skipped. Warm runs alternate
    (API, bare, API, ...) so that load from elsewhere on the machine hits both alike."""
    port = free_port()
    os.environ["CONCURRENT_JOBS"] = "1"  # one worker: every warm request finds the model loaded
    server = start_server(work / f"data-{case.tool}", port)
    try:
        base = f"http://127.0.0.1:{port}"
        key = api_key(base)
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=900) as client:
            info = client.get(f"/api/v1/tools/{case.section}/{case.tool}")
            if info.status_code == 404:
                return f"{case.tool} is not registered yet"
            if info.json().get("featureInstalled") is False:
                return f"{case.tool}: its AI feature is not installed here"
            load, run = case.bare(work)
            path = f"/api/v1/tools/{case.section}/{case.tool}"
            api_cold = call(client, path, case.files(work, 0), case.settings)
            bare_cold, model = timed(lambda: first_run(load, run))
            times = Times(api_cold, bare_cold)
            for i in range(1, runs + 1):
                times.api_warm.append(call(client, path, case.files(work, i), case.settings))
                times.bare_warm.append(timed(lambda: run(model))[0])
            return times
    finally:
        server.terminate()
        server.wait(timeout=10)


def inputs(work: Path, runs: int) -> None:
    for i in range(runs + 1):
        photo(work / f"photo{i}.png", i)
        text_picture(work / f"text{i}.png", i)
        speech_clip(work / f"speech{i}.mp3", i)


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
            measured = measure(case, work, args.runs)
            if isinstance(measured, str):
                skipped.append(measured)
                print(f"skipped: {measured}", flush=True)
                continue
            bw, aw = statistics.median(measured.bare_warm), statistics.median(measured.api_warm)
            rows.append(
                {
                    "tool": case.tool,
                    "model": case.model,
                    "input": case.input,
                    "bareColdS": measured.bare_cold,
                    "apiColdS": measured.api_cold,
                    "bareWarmS": bw,
                    "apiWarmS": aw,
                    "warmRatio": aw / bw,
                    "warmOverheadMs": (aw - bw) * 1000,
                    "bareWarmMinS": min(measured.bare_warm),
                    "apiWarmMinS": min(measured.api_warm),
                    "bareWarmRunsS": measured.bare_warm,
                    "apiWarmRunsS": measured.api_warm,
                }
            )
            print(f"measured {case.tool}", flush=True)
    lines = [header, ""]
    lines.append(
        f"{'tool':<18} {'model':<34} {'input':<21} | {'bare cold':>9} {'API cold':>9} | "
        f"{'bare warm':>9} {'API warm':>9} {'ratio':>6} {'overhead':>9} | {'bare min':>8} {'API min':>8} {'ratio':>6}"
    )
    for r in rows:
        lines.append(
            f"{r['tool']:<18} {r['model']:<34} {r['input']:<21} | {r['bareColdS']:>8.2f}s {r['apiColdS']:>8.2f}s | "
            f"{r['bareWarmS']:>8.3f}s {r['apiWarmS']:>8.3f}s {r['warmRatio']:>6.2f} {r['warmOverheadMs']:>7.0f}ms | "
            f"{r['bareWarmMinS']:>7.3f}s {r['apiWarmMinS']:>7.3f}s {r['apiWarmMinS'] / r['bareWarmMinS']:>6.2f}"
        )
    lines += [f"skipped: {s}" for s in skipped]
    table = "\n".join(lines)
    print("\n" + table)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "ai_bench.txt").write_text(table + "\n")
    (RESULTS / "ai_bench.json").write_text(json.dumps({"machine": header, "rows": rows, "skipped": skipped}, indent=2))


if __name__ == "__main__":
    main()
