"""ONNX Runtime sessions: provider choice, lazy loading, a per-process cache that forgets idle models.

Inference runs in worker processes (never on the server's event loop). A worker keeps the sessions it
loaded, so the second request for a model skips the load (the "warm" case), within AI_MEMORY_MB: the
least recently used model goes when a new one would not fit. A session unused for AI_SESSION_IDLE_S is
dropped, and a worker that ran AI exits after AI_WORKER_IDLE_S without jobs (engine/runner.py), so the
memory goes back to the system.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.config import get_settings

log = logging.getLogger("lutra.ai")

# CUDA first, then CPU: the first one the installed runtime offers wins for each node of the graph.
PREFERENCE = ("CUDAExecutionProvider", "CPUExecutionProvider")


def choose_providers(available: Iterable[str], override: str | None = None) -> list[str]:
    """The providers to ask for: the preference list (or ONNX_PROVIDERS) intersected with what exists.

    An override naming only providers this runtime lacks falls back to the preference list; the
    CPU provider is always last, so a node CUDA can't run still runs.
    """
    offered = list(available)
    wanted: Sequence[str] = PREFERENCE
    if override:
        names = [_full_name(p) for p in override.split(",") if p.strip()]
        if any(n in offered for n in names):
            wanted = names
        else:
            log.warning("ONNX_PROVIDERS=%s names no provider this runtime offers (%s)", override, offered)
    chosen = [p for p in wanted if p in offered]
    if "CPUExecutionProvider" in offered and "CPUExecutionProvider" not in chosen:
        chosen.append("CPUExecutionProvider")
    return chosen


def _full_name(name: str) -> str:
    name = name.strip()
    short = {"cuda": "CUDAExecutionProvider", "cpu": "CPUExecutionProvider", "tensorrt": "TensorrtExecutionProvider"}
    return short.get(name.lower(), name)


def runtime_status() -> dict[str, Any]:
    """What this process's runtime offers and what Lutra will use (imports onnxruntime)."""
    try:
        import onnxruntime as ort
    except Exception:  # not installed or broken: the AI tools answer 501
        return {"runtime": None, "available": [], "providers": [], "gpu": False}
    available = list(ort.get_available_providers())
    chosen = choose_providers(available, get_settings().onnx_providers)
    return {
        "runtime": f"onnxruntime {ort.__version__}",
        "available": available,
        "providers": chosen,
        "gpu": any(p != "CPUExecutionProvider" for p in chosen),
    }


@dataclass
class _Entry:
    model: Any
    used: float
    size: int  # bytes it is reckoned to hold (its files on disk: the weights it keeps in memory)


def footprint(path: Path) -> int:
    """What a loaded model is reckoned to hold in memory: the size of its file, or of its folder's files."""
    try:
        if path.is_dir():
            return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
        return path.stat().st_size
    except OSError:
        return 0


def release_memory() -> None:
    """Hands freed heap pages back to the system: glibc keeps a dropped model's arenas otherwise."""
    gc.collect()
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


class SessionCache:
    """Loaded models by path, within a byte budget: the least recently used go first when a new one
    would not fit, and a sweeper thread drops those unused for `idle_s`.

    `loader` makes the cache hold another kind of model (speech.py keeps its Whisper models here);
    `budget_bytes` None means no budget (idle drop only)."""

    def __init__(
        self,
        idle_s: float,
        loader: Callable[[Path], Any] | None = None,
        label: str = "ONNX session",
        budget_bytes: int | None = None,
        sizer: Callable[[Path], int] = footprint,
    ) -> None:
        self.idle_s = idle_s
        self.label = label
        self.budget_bytes = budget_bytes
        self._loader = loader
        self._sizer = sizer
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, _Entry] = OrderedDict()  # least recently used first
        self._sweeper: threading.Thread | None = None

    def get(self, path: Path) -> Any:
        key = str(path)
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                found.used = time.monotonic()
                self._entries.move_to_end(key)
                return found.model
        size = self._sizer(path)
        # Make room before loading: the old and the new model must not sit in memory side by side.
        self._evict(self._over_budget(size))
        model = (self._loader or _load)(path)  # outside the lock: loading a big model takes seconds
        with self._lock:
            self._entries[key] = _Entry(model, time.monotonic(), size)
            self._entries.move_to_end(key)
            self._start_sweeper()
        return model

    def loaded(self) -> list[str]:
        """Paths of the loaded models, least recently used first."""
        with self._lock:
            return list(self._entries)

    def total_bytes(self) -> int:
        with self._lock:
            return sum(e.size for e in self._entries.values())

    def _over_budget(self, incoming: int) -> list[str]:
        """The least recently used models to drop so that `incoming` more bytes fit the budget."""
        if self.budget_bytes is None:
            return []
        with self._lock:
            total = sum(e.size for e in self._entries.values()) + incoming
            victims = []
            for key, entry in self._entries.items():
                if total <= self.budget_bytes:
                    break
                victims.append(key)
                total -= entry.size
            return victims

    def _evict(self, keys: list[str], why: str = "over AI_MEMORY_MB") -> list[str]:
        with self._lock:
            gone = [k for k in keys if self._entries.pop(k, None) is not None]
        for key in gone:
            log.info("dropped %s %s (%s)", self.label, Path(key).name, why)
        if gone:
            release_memory()
        return gone

    def drop_idle(self, now: float | None = None) -> list[str]:
        now = time.monotonic() if now is None else now
        with self._lock:
            stale = [k for k, e in self._entries.items() if now - e.used >= self.idle_s]
        return self._evict(stale, "idle")

    def clear(self) -> list[str]:
        return self._evict(self.loaded(), "cleared")

    def _start_sweeper(self) -> None:
        if self._sweeper is not None and self._sweeper.is_alive():
            return

        def sweep() -> None:
            while True:
                time.sleep(max(1.0, self.idle_s / 4))
                self.drop_idle()

        self._sweeper = threading.Thread(target=sweep, name="onnx-idle-sweeper", daemon=True)
        self._sweeper.start()


def _load(path: Path) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    # Workers run CONCURRENT_JOBS at once on a host's cores; one session must not claim them all.
    settings = get_settings()
    threads = settings.ai_threads
    if threads > 0:
        options.intra_op_num_threads = threads
    options.log_severity_level = 3
    providers = choose_providers(ort.get_available_providers(), settings.onnx_providers)
    started = time.monotonic()
    session = ort.InferenceSession(str(path), sess_options=options, providers=providers)
    log.info("loaded %s on %s in %.2f s", path.name, ",".join(session.get_providers()), time.monotonic() - started)
    return session


_cache: SessionCache | None = None


def budget_bytes() -> int:
    """AI_MEMORY_MB in bytes: what one worker's loaded models may hold together."""
    return get_settings().ai_memory_mb * 1024 * 1024


def cache() -> SessionCache:
    global _cache
    if _cache is None:
        settings = get_settings()
        _cache = SessionCache(float(settings.ai_session_idle_s), budget_bytes=budget_bytes())
    return _cache


def session(path: Path) -> Any:
    """The cached InferenceSession for a model file, loading it on first use."""
    return cache().get(path)
