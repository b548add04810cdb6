"""AI memory: the model cache's byte budget (AI_MEMORY_MB, least recently used first), workers that ran AI
retired after a short idle time, and ordinary workers that never load an AI runtime."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path

import numpy as np
import onnx
import pytest
import pyvips
from onnx import TensorProto, helper

from app.config import get_settings
from app.engine.media import onnx as lutra_onnx
from app.engine.runner import Runner
from app.engine.spec import InputRef, JobSpec, Step

# Shared libraries an AI runtime maps into a process; none may appear in a worker that ran no AI tool.
AI_LIBRARIES = ("onnxruntime", "cv2", "realesrgan", "ctranslate2", "_multiarray_umath")


def scaling_model(factor: float, padding_floats: int) -> bytes:
    """y = x * factor, carrying `padding_floats` unused weights so the file has a known size."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3])
    k = helper.make_tensor("k", TensorProto.FLOAT, [1], [factor])
    pad = helper.make_tensor("pad", TensorProto.FLOAT, [padding_floats], np.zeros(padding_floats, np.float32))
    graph = helper.make_graph([helper.make_node("Mul", ["x", "k"], ["y"])], "scale", [x], [y], [k, pad])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8  # what the installed runtime reads
    return model.SerializeToString()


def _models(root: Path) -> dict[str, Path]:
    """Three models of about 400 KB each."""
    paths = {}
    for name, factor in (("a", 2.0), ("b", 3.0), ("c", 4.0)):
        paths[name] = root / f"{name}.onnx"
        paths[name].write_bytes(scaling_model(factor, 100_000))
        onnx.checker.check_model(str(paths[name]))
    return paths


def _run(session: object) -> list[float]:
    (y,) = session.run(None, {"x": np.array([[1, 2, 3]], dtype=np.float32)})  # type: ignore[attr-defined]
    return y.tolist()[0]


def test_budget_drops_the_least_recently_used_model(tmp_path: Path) -> None:
    m = _models(tmp_path)
    size = lutra_onnx.footprint(m["a"])
    assert 400_000 < size < 420_000
    cache = lutra_onnx.SessionCache(idle_s=600, budget_bytes=int(size * 2.5))  # room for two
    a = cache.get(m["a"])
    cache.get(m["b"])
    assert cache.get(m["a"]) is a  # a is now the most recently used
    c = cache.get(m["c"])
    assert cache.loaded() == [str(m["a"]), str(m["c"])]  # b, the least recently used, went
    assert cache.total_bytes() <= cache.budget_bytes
    assert _run(a) == [2, 4, 6] and _run(c) == [4, 8, 12]
    # b comes back on demand (loaded anew), and a, now the oldest, makes room for it.
    assert _run(cache.get(m["b"])) == [3, 6, 9]
    assert cache.loaded() == [str(m["c"]), str(m["b"])]


def test_a_model_over_the_budget_still_runs_alone(tmp_path: Path) -> None:
    m = _models(tmp_path)
    cache = lutra_onnx.SessionCache(idle_s=600, budget_bytes=100_000)
    cache.get(m["a"])
    assert _run(cache.get(m["b"])) == [3, 6, 9]
    assert cache.loaded() == [str(m["b"])]


def test_idle_drop_and_clear_free_everything(tmp_path: Path) -> None:
    m = _models(tmp_path)
    cache = lutra_onnx.SessionCache(idle_s=60, budget_bytes=10_000_000)
    cache.get(m["a"])
    cache.get(m["b"])
    assert cache.drop_idle(now=time.monotonic() + 61) == [str(m["a"]), str(m["b"])]
    assert cache.total_bytes() == 0
    cache.get(m["c"])
    assert cache.clear() == [str(m["c"])] and cache.loaded() == []


def test_ai_memory_mb_sets_the_shared_cache_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AI_MEMORY_MB", "256")
    get_settings.cache_clear()
    monkeypatch.setattr(lutra_onnx, "_cache", None)
    try:
        assert lutra_onnx.cache().budget_bytes == 256 * 1024 * 1024
    finally:
        get_settings.cache_clear()
    monkeypatch.delenv("AI_MEMORY_MB")
    assert get_settings().ai_memory_mb == 1024  # the default: room for the largest bundled model and a few small ones


# -- worker processes ---------------------------------------------------------------------------


def _spec(tmp_path: Path, tool: str, settings: dict) -> JobSpec:
    picture = tmp_path / f"in-{uuid.uuid4().hex[:6]}.png"
    pyvips.Image.black(64, 48, bands=3).draw_rect([200, 30, 30], 8, 8, 20, 20, fill=True).write_to_file(str(picture))
    work = tmp_path / uuid.uuid4().hex
    work.mkdir()
    ref = InputRef(str(picture), picture.name, "png", picture.stat().st_size)
    return JobSpec(uuid.uuid4().hex, [Step(tool, settings)], [ref], str(work), timeout_s=120)


def _mapped_ai_libraries(pid: int) -> set[str]:
    maps = Path(f"/proc/{pid}/maps").read_text()
    return {lib for lib in AI_LIBRARIES if lib in maps}


def _idle_workers(runner: Runner) -> list:
    return list(runner._idle)


def test_workers_stay_lean_and_ai_workers_retire_sooner(tmp_path: Path) -> None:
    async def scenario() -> None:
        runner = Runner(1, idle_timeout_s=300, ai_idle_timeout_s=20)
        runner.start()
        try:
            done = await runner.run(_spec(tmp_path, "rotate", {"angle": 90}), lambda *_: None)
            assert done.status == "completed", done.error
            (worker,) = _idle_workers(runner)
            # A non-AI job leaves no AI runtime (nor numpy) in the worker: ordinary workers stay lean.
            assert _mapped_ai_libraries(worker.process.pid) == set()
            assert worker.holds_ai is False
            await runner.reap_idle(now=time.monotonic() + 21)
            assert _idle_workers(runner) == [worker]  # an ordinary worker keeps the long idle time

            done = await runner.run(_spec(tmp_path, "upscale", {"model": "realesr-animevideov3"}), lambda *_: None)
            assert done.status == "completed", done.error
            assert _idle_workers(runner) == [worker] and worker.holds_ai is True
            assert "realesrgan" in _mapped_ai_libraries(worker.process.pid)
            await runner.reap_idle(now=time.monotonic() + 10)
            assert _idle_workers(runner) == [worker]
            await runner.reap_idle(now=time.monotonic() + 21)
            assert _idle_workers(runner) == [] and not worker.alive  # gone: its memory is the system's again
            # The next job gets a fresh, lean worker.
            assert (await runner.run(_spec(tmp_path, "rotate", {"angle": 180}), lambda *_: None)).status == "completed"
            (fresh,) = _idle_workers(runner)
            assert fresh is not worker and _mapped_ai_libraries(fresh.process.pid) == set()
        finally:
            await runner.close()

    asyncio.run(scenario())
