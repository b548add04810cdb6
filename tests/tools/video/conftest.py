"""The video tests share one app per module and one set of generated media (tests/tools/av.py)."""

from tests.tools.av import av, media

__all__ = ["av", "media"]
