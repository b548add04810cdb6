"""The files tests share one app per module (tests/tools/av.py's `av` fixture)."""

from tests.tools.av import av

__all__ = ["av"]
