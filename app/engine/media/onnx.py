"""ONNX Runtime sessions: provider choice, lazy loading, a per-process cache that forgets idle models.

Inference runs in worker processes (never on the server's event loop). A worker keeps the sessions it
loaded, so the second request for a model skips the load (the "warm" case); a session unused for
AI_SESSION_IDLE_S is dropped to give its memory back.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
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


class SessionCache:
    """Loaded InferenceSessions by model path; idle ones are dropped by a daemon sweeper thread.

    `loader` makes the cache hold another kind of model (speech.py keeps its Whisper models here)."""

    def __init__(self, idle_s: float, loader: Callable[[Path], Any] | None = None, label: str = "ONNX session") -> None:
        self.idle_s = idle_s
        self.label = label
        self._loader = loader
        self._lock = threading.Lock()
        self._sessions: dict[str, tuple[Any, float]] = {}
        self._sweeper: threading.Thread | None = None

    def get(self, path: Path) -> Any:
        key = str(path)
        with self._lock:
            found = self._sessions.get(key)
            if found is not None:
                self._sessions[key] = (found[0], time.monotonic())
                return found[0]
        session = (self._loader or _load)(path)  # outside the lock: loading a big model takes seconds
        with self._lock:
            self._sessions[key] = (session, time.monotonic())
            self._start_sweeper()
        return session

    def loaded(self) -> list[str]:
        with self._lock:
            return list(self._sessions)

    def drop_idle(self, now: float | None = None) -> list[str]:
        now = time.monotonic() if now is None else now
        with self._lock:
            stale = [k for k, (_, used) in self._sessions.items() if now - used >= self.idle_s]
            for key in stale:
                del self._sessions[key]
        for key in stale:
            log.info("dropped idle %s %s", self.label, Path(key).name)
        return stale

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
    log.info(
        "loaded %s on %s in %.2f s", path.name, ",".join(session.get_providers()), time.monotonic() - started
    )
    return session


_cache: SessionCache | None = None


def cache() -> SessionCache:
    global _cache
    if _cache is None:
        _cache = SessionCache(float(get_settings().ai_session_idle_s))
    return _cache


def session(path: Path) -> Any:
    """The cached InferenceSession for a model file, loading it on first use."""
    return cache().get(path)
