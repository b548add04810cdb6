"""Runs an external program (Ghostscript, LibreOffice, pandoc, qpdf, ...) for a tool, safely.

The program gets its own process group, a time limit and no stdin; a cancel or a timeout kills the
whole group (LibreOffice and Ghostscript fork helpers). Its output goes to our log only: the client
gets a short "<what> could not ..." reason, never a program's raw stderr.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from app.engine import failures
from app.engine.tool import Cancelled, ToolContext, ToolFailure

log = logging.getLogger("lutra.process")
OUTPUT_TAIL_BYTES = 20_000


def kill_group(proc: subprocess.Popen[bytes], *, wait: bool = True) -> None:
    """Kills a program and everything it started."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
    if wait:
        proc.wait()


def wait_or_stop(proc: subprocess.Popen[bytes], ctx: ToolContext | None, deadline: float, late: str) -> int:
    """Waits for a program's exit code, checking ten times a second for a cancel (raises Cancelled) and
    for the deadline (raises ToolFailure(late)); the caller kills the program on either."""
    while True:
        try:
            return proc.wait(timeout=0.1)
        except subprocess.TimeoutExpired:
            if ctx is not None and ctx.cancelled():
                raise Cancelled() from None
            if time.monotonic() > deadline:
                raise ToolFailure(late) from None


def run_program(
    cmd: Sequence[str],
    ctx: ToolContext | None,
    *,
    what: str,
    timeout_s: float,
    failure: str = "could not process this file",
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    ok_codes: tuple[int, ...] = (0,),
) -> tuple[int, str]:
    """Runs `cmd` to completion; returns (exit code, last 20 kB of its output).

    An exit code outside ok_codes raises ToolFailure(f"{what} {failure}"); a timeout or a cancel
    (checked ten times a second) kills the process group and raises ToolFailure or Cancelled.
    """
    log.debug("running %s", " ".join(cmd))
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(
            list(cmd), stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, cwd=cwd, env=env,
            start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + timeout_s
        try:
            code = wait_or_stop(proc, ctx, deadline, f"{what} took longer than the {int(timeout_s)} s time limit")
        except BaseException:
            kill_group(proc)
            raise
        finally:
            # A forked helper may outlive its parent in the group; nothing of a job survives it.
            kill_group(proc, wait=False)
        size = out.tell()
        out.seek(max(0, size - OUTPUT_TAIL_BYTES))
        text = out.read().decode("utf-8", "replace")
    if code not in ok_codes:
        log.warning("%s failed (exit %s): %s", cmd[0], code, text[-2000:])
        known = failures.soffice(text) if Path(cmd[0]).name.startswith("soffice") else None
        raise ToolFailure(known or f"{what} {failure}")
    return code, text
