"""Versions of the media engines found on this machine (for admin health)."""

from __future__ import annotations

import re
import shutil
import subprocess
from functools import lru_cache


def _first_line(cmd: list[str], pattern: str) -> str | None:
    if shutil.which(cmd[0]) is None:
        return None
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(pattern, out.stdout + out.stderr)
    return match.group(1) if match else None


@lru_cache
def engine_versions() -> dict[str, str | None]:
    try:
        from app.engine.media import lazy_vips

        pyvips = lazy_vips.load()
        vips: str | None = f"{pyvips.version(0)}.{pyvips.version(1)}.{pyvips.version(2)}"
    except Exception:  # libvips missing or broken: report it, don't fail health
        vips = None
    return {
        "libvips": vips,
        "ffmpeg": _first_line(["ffmpeg", "-version"], r"ffmpeg version (\S+)"),
        "qpdf": _first_line(["qpdf", "--version"], r"qpdf version (\S+)"),
        "ghostscript": _first_line(["gs", "--version"], r"(\d+\.\d+(?:\.\d+)?)"),
    }
