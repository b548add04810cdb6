"""Benchmark: a 1080p -> 720p transcode through Lutra's API against the same ffmpeg command run directly.

Run by hand (never in CI):  .venv/bin/python bench/transcode_bench.py [--seconds 10] [--runs 3]

In one run it generates a 1080p clip (testsrc2 + a sine tone, H.264/AAC), then alternates:
  * direct: the exact ffmpeg command resize-video builds (built by app.engine.media.ffmpeg), run as a
    plain subprocess;
  * API: POST /api/v1/tools/video/resize-video {"preset": "720p"} to a real `lutra serve`, wait for the
    completed frame on the job's SSE stream, GET the result;
and prints the median wall time of each and the API's overhead in percent (target: under 5%).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.engine.media import ffmpeg  # noqa: E402
from bench.resize_bench import api_key, follow_job, free_port, start_server  # noqa: E402


def make_clip(path: Path, seconds: int) -> None:
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc2=s=1920x1080:r=30:d={seconds}"]
        + ["-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}", "-c:v", "libx264", "-preset", "veryfast"]
        + ["-crf", "20", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(path)],
        check=True,
    )


def direct_command(src: Path, out: Path) -> list[str]:
    """What resize-video runs for {"preset": "720p"} (without the progress pipe)."""
    codec = ffmpeg.h264("balanced")
    args = [*codec.global_args, *ffmpeg.input_args(src, "mp4"), "-map", "0:v:0", "-map", "0:a:0"]
    args += ffmpeg.video_output_args("mp4", codec, ["scale=-2:720:flags=lanczos"], audio=True)
    return ["ffmpeg", "-nostdin", "-hide_banner", "-y", "-loglevel", "error", *args, ffmpeg.output(out)]


def run_direct(src: Path, out: Path) -> float:
    start = time.perf_counter()
    subprocess.run(direct_command(src, out), check=True)
    return time.perf_counter() - start


def run_api(client: httpx.Client, src: Path, dest: Path) -> float:
    start = time.perf_counter()
    with src.open("rb") as f:
        r = client.post(
            "/api/v1/tools/video/resize-video",
            files={"file": (src.name, f, "video/mp4")},
            data={"settings": json.dumps({"preset": "720p"})},
        )
    r.raise_for_status()
    final = follow_job(client, r.json()["jobId"])
    if final.get("status") != "completed":
        raise SystemExit(f"job did not complete: {final}")
    with client.stream("GET", final["result"]["downloadUrl"]) as d, dest.open("wb") as f:
        d.raise_for_status()
        for chunk in d.iter_bytes(1 << 20):
            f.write(chunk)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=10, help="length of the generated 1080p clip")
    parser.add_argument("--runs", type=int, default=3, help="timed runs of each (after one warm-up each)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lutra-transcode-bench-") as tmp:
        work = Path(tmp)
        src = work / "clip1080.mp4"
        make_clip(src, args.seconds)
        port = free_port()
        server = start_server(work / "data", port)
        try:
            base = f"http://127.0.0.1:{port}"
            key = api_key(base)
            with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=600) as client:
                run_api(client, src, work / "warm_api.mp4")  # starts a worker process
                run_direct(src, work / "warm_direct.mp4")
                direct, api = [], []
                for i in range(args.runs):  # alternated, so drifting machine load hits both alike
                    direct.append(run_direct(src, work / f"direct{i}.mp4"))
                    api.append(run_api(client, src, work / f"api{i}.mp4"))
        finally:
            server.terminate()
            server.wait(timeout=10)
        size = src.stat().st_size, (work / "api0.mp4").stat().st_size, (work / "direct0.mp4").stat().st_size
    d, a = statistics.median(direct), statistics.median(api)
    print(f"clip: {args.seconds} s 1920x1080 -> 720p, {size[0]} bytes in")
    print(f"direct ffmpeg      median {d:.3f} s  min {min(direct):.3f} s  runs {', '.join(f'{x:.3f}' for x in direct)}")
    print(f"API (POST+SSE+GET) median {a:.3f} s  min {min(api):.3f} s  runs {', '.join(f'{x:.3f}' for x in api)}")
    print(f"output sizes: API {size[1]} bytes, direct {size[2]} bytes (same command, same bytes)")
    # The minimum is the run least disturbed by other load; on a busy machine it is the fairer figure.
    print(
        f"overhead: median {100 * (a - d) / d:+.1f}%, min {100 * (min(api) - min(direct)) / min(direct):+.1f}%"
        "  (target < 5%)"
    )


if __name__ == "__main__":
    main()
