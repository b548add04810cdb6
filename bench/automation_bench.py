"""Benchmark: files per second through a resize automation (a watched folder) against the same files
through POST /api/v1/tools/image/batch, on one real `lutra serve`.

Run by hand (never in CI):  .venv/bin/python bench/automation_bench.py [--files 200] [--repeats 3]

Both paths resize the same small JPEGs (640x480 -> 160 px wide) with the same tool and settings; the
automation's time runs from the moment the files are in the folder (written under a temporary name
and renamed, as a copy tool does) until every output exists; the batch's from the request until the
ZIP is read. Interleaved repeats (batch, automation, batch, ...); min and median of each, and the ratio.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pyvips

sys.path.insert(0, str(Path(__file__).resolve().parent))
from resize_bench import api_key, free_port, start_server

SETTINGS = {"width": 160}


def jpegs(count: int) -> list[bytes]:
    noise = pyvips.Image.gaussnoise(640, 480, mean=128, sigma=40)
    base = (noise.bandjoin([noise, noise]) + [20, 60, 100]).cast("uchar")
    return [(base + [i % 50, 0, 0]).cast("uchar").write_to_buffer(".jpg", Q=85) for i in range(count)]


def via_batch(client: httpx.Client, files: list[bytes]) -> float:
    parts = [("files", (f"b{i}.jpg", data, "image/jpeg")) for i, data in enumerate(files)]
    start = time.perf_counter()
    r = client.post("/api/v1/tools/image/resize/batch", files=parts, data={"settings": json.dumps(SETTINGS)})
    r.raise_for_status()
    _ = r.content
    return time.perf_counter() - start


def via_automation(client: httpx.Client, watch: Path, round_no: int, files: list[bytes]) -> float:
    source, output = watch / f"in{round_no}", watch / f"out{round_no}"
    r = client.post(
        "/api/v1/automations",
        json={
            "name": f"bench {round_no}",
            "source": {"path": source.name},
            "steps": [{"toolId": "resize", "settings": SETTINGS}],
            "output": {"path": output.name},
            "afterSuccess": "delete",
            "filter": {"globs": ["*.jpg"], "minAgeSeconds": 0},
        },
    )
    r.raise_for_status()
    start = time.perf_counter()
    for i, data in enumerate(files):
        temp = source / f".a{i}.jpg.part"
        temp.write_bytes(data)
        temp.rename(source / f"a{i}.jpg")
    while len(list(output.glob("*.jpg"))) < len(files):
        time.sleep(0.01)
    took = time.perf_counter() - start
    client.patch(f"/api/v1/automations/{r.json()['id']}", json={"enabled": False}).raise_for_status()
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    files = jpegs(args.files)
    with tempfile.TemporaryDirectory(prefix="lutra-bench-") as tmp:
        data_dir, port = Path(tmp) / "data", free_port()
        server = start_server(data_dir, port)
        try:
            base = f"http://127.0.0.1:{port}"
            with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {api_key(base)}"}, timeout=600) as c:
                batch, auto = [], []
                for n in range(args.repeats):
                    batch.append(via_batch(c, files))
                    auto.append(via_automation(c, data_dir / "watch", n, files))
        finally:
            server.terminate()
            server.wait(timeout=30)
    rate = lambda seconds: args.files / seconds  # noqa: E731
    print(f"{args.files} JPEGs 640x480 -> 160 px, {args.repeats} interleaved repeats")
    print(f"  /batch      files/s  best {rate(min(batch)):7.1f}  median {rate(statistics.median(batch)):7.1f}")
    print(f"  automation  files/s  best {rate(min(auto)):7.1f}  median {rate(statistics.median(auto)):7.1f}")
    print(f"  automation / batch (median throughput): {statistics.median(batch) / statistics.median(auto):.2f}x")


if __name__ == "__main__":
    main()
