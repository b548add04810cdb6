"""Benchmark: the memory of server + workers while five AI tools are used once, and how soon it returns.

Run by hand (never in CI):  .venv/bin/python bench/ai_memory.py

One real `lutra serve` (fresh DATA_DIR, SQLite, the default settings a user gets); memory is the sum over
the server and its worker processes, as RSS and as PSS (shared pages counted once), sampled every
0.25 s. It reads the idle figure after a warm-up (one resize), runs remove-background, ocr, upscale
(default tier), transcribe-audio and blur-faces once each (a tool whose AI feature is not installed is
named and skipped), keeps the peak, then reads memory every second until it is back within 10 % (or
15 MB) of the idle figure, and prints how long that took. Results go to bench/results/ (ignored by git).
"""

from __future__ import annotations

import contextlib
import json
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import psutil
import pyvips

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.ai_bench import call, photo, speech_clip, text_picture  # noqa: E402
from bench.resize_bench import api_key, free_port, start_server, tree_pss, tree_rss  # noqa: E402

RESULTS = ROOT / "bench" / "results"
GIVE_UP_S = 180.0


def small_picture(path: Path) -> None:
    pyvips.Image.gaussnoise(256, 192, sigma=40, mean=128).cast("uchar").bandjoin([128, 90]).pngsave(str(path))


class Peak(threading.Thread):
    def __init__(self, proc: psutil.Process) -> None:
        super().__init__(daemon=True)
        self.proc, self.rss, self.pss, self.running = proc, 0, 0, True

    def run(self) -> None:
        while self.running:
            self.rss = max(self.rss, tree_rss(self.proc))
            self.pss = max(self.pss, tree_pss(self.proc))
            time.sleep(0.25)


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="lutra-ai-memory-") as tmp:
        work = Path(tmp)
        photo(work / "photo.png", 0)
        text_picture(work / "text.png", 0)
        speech_clip(work / "speech.mp3", 0)
        small_picture(work / "small.png")
        uses = [
            ("image", "remove-background", work / "photo.png", {}),
            ("image", "ocr", work / "text.png", {}),
            ("image", "upscale", work / "small.png", {"scale": 2}),
            ("audio", "transcribe-audio", work / "speech.mp3", {"language": "en"}),
            ("image", "blur-faces", work / "photo.png", {}),
        ]
        port = free_port()
        server = start_server(work / "data", port)
        proc = psutil.Process(server.pid)
        try:
            base = f"http://127.0.0.1:{port}"
            key = api_key(base)
            with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=900) as client:
                call(client, "/api/v1/tools/image/resize", work / "photo.png", {"width": 100})
                time.sleep(3)
                idle = {"rss": tree_rss(proc), "pss": tree_pss(proc)}
                peak = Peak(proc)
                peak.start()
                ran, skipped = [], []
                started = time.perf_counter()
                for section, tool, src, settings in uses:
                    info = client.get(f"/api/v1/tools/{section}/{tool}").json()
                    if info.get("featureInstalled") is False:
                        skipped.append(tool)
                        continue
                    seconds = call(client, f"/api/v1/tools/{section}/{tool}", src, settings)
                    ran.append({"tool": tool, "seconds": round(seconds, 2)})
                used_s = time.perf_counter() - started
                peak.running = False
                peak.join()
                after: dict[str, Any] = {"rss": tree_rss(proc), "pss": tree_pss(proc)}
                done = time.perf_counter()
                back_s = None
                while time.perf_counter() - done < GIVE_UP_S:
                    now = tree_pss(proc)
                    if now <= max(idle["pss"] * 1.1, idle["pss"] + 15 * 2**20):
                        back_s = time.perf_counter() - done
                        break
                    time.sleep(1.0)
                settled = {"rss": tree_rss(proc), "pss": tree_pss(proc)}
        finally:
            server.terminate()
            with contextlib.suppress(Exception):
                server.wait(timeout=20)
    mb = 2**20
    report = {
        "ran": ran,
        "skipped": skipped,
        "usedSeconds": round(used_s, 1),
        "idleMB": {k: round(v / mb) for k, v in idle.items()},
        "peakWhileUsedMB": {"rss": round(peak.rss / mb), "pss": round(peak.pss / mb)},
        "rightAfterMB": {k: round(v / mb) for k, v in after.items()},
        "settledMB": {k: round(v / mb) for k, v in settled.items()},
        "backToIdleAfterS": None if back_s is None else round(back_s, 1),
    }
    print(json.dumps(report, indent=2))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"ai_memory-{time.strftime('%Y%m%d-%H%M%S')}.json").write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
