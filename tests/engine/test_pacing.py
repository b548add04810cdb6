"""Steady progress: the pacer moves the bar through slow parts and an SSE frame carries the time left."""

from __future__ import annotations

import itertools
import threading
import time
from pathlib import Path

from fastapi.testclient import TestClient

from app.engine.pacing import Pacer
from app.engine.tool import ToolContext
from tests.engine.helpers import png, post_tool, read_events


def recording_ctx(tmp_path: Path) -> tuple[ToolContext, list[tuple[float, float, str | None]]]:
    reports: list[tuple[float, float, str | None]] = []
    t0 = time.monotonic()
    return ToolContext([], {}, tmp_path, lambda pct, msg: reports.append((time.monotonic() - t0, pct, msg))), reports


def test_the_bar_moves_inside_slow_parts_without_passing_them(tmp_path: Path) -> None:
    ctx, reports = recording_ctx(tmp_path)
    with Pacer(ctx, 10, 90, total=3, label=lambda n, t: f"tile {n} of {t}", interval_s=0.05) as pacer:
        for done in (1, 2, 3):
            time.sleep(0.5)
            pacer.advance(done)
    percents = [pct for _, pct, _ in reports]
    assert percents == sorted(percents)  # never backwards
    assert percents[-1] == 90
    # While tile 2 ran (its pace known from tile 1), the bar went past tile 1's mark but stopped short of tile 2's.
    during_second = [pct for _, pct, msg in reports if msg == "tile 2 of 3" and pct > 10 + 80 / 3]
    assert len(during_second) >= 3
    assert max(during_second) < 10 + 80 * 2 / 3
    # No gap between two reports is longer than a few pacing intervals.
    times = [t for t, _, _ in reports]
    assert max(b - a for a, b in itertools.pairwise(times)) < 0.4


def test_poll_learns_finished_parts_from_outside(tmp_path: Path) -> None:
    ctx, reports = recording_ctx(tmp_path)
    finished = [0]

    def work() -> None:
        for n in (1, 2):
            time.sleep(0.2)
            finished[0] = n

    with Pacer(ctx, 0, 100, total=2, label=lambda n, t: f"page {n} of {t}", poll=lambda: finished[0],
               interval_s=0.05):  # fmt: skip
        worker = threading.Thread(target=work)
        worker.start()
        worker.join()
        time.sleep(0.15)
    assert (100, "page 2 of 2") in [(pct, msg) for _, pct, msg in reports]
    assert any(msg == "page 2 of 2" and 50 <= pct < 100 for _, pct, msg in reports)


def test_sse_frames_carry_the_time_left(tools_client: TestClient) -> None:
    r = post_tool(tools_client, "files/test-sleep", [("a.png", png())], {"seconds": 4, "steps": 40})
    assert r.status_code == 202, r.text
    events = read_events(tools_client, r.json()["jobId"])
    frames = [e for e in events if e["status"] == "processing"]
    assert all("etaSeconds" in e for e in frames)
    timed = [e for e in frames if e["etaSeconds"] is not None]
    assert timed, frames
    # After half the work, the time left is about the time taken so far (4 s in all, loaded machines are slower).
    middle = next(e for e in timed if e["progress"] >= 50)
    assert 0 <= middle["etaSeconds"] <= 8
    assert timed[-1]["etaSeconds"] <= timed[0]["etaSeconds"]
    assert "etaSeconds" not in events[-1]  # the terminal frame has none
