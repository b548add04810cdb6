"""pyvips in the server process: loaded on first use, not at start-up.

About fifty tool modules `import pyvips` at top level, and the server imports every tool module for its
settings model, though only worker processes run tools. Loading pyvips (libvips, GLib, cffi) took
0.1-0.17 s of every start-up, holding the GIL. `defer()` puts a stand-in module in its place: `import
pyvips` binds the stand-in, and the first attribute read from it (`pyvips.Image`) loads the library
and fills the stand-in with its names, so later reads cost what a module attribute costs.

Written by hand: importlib's LazyLoader would fit, but on Python 3.11 every `import pyvips` statement
reads the module's `__spec__` and so loads it at once, and its first access is not thread-safe.
"""

from __future__ import annotations

import importlib
import sys
import threading
from types import ModuleType
from typing import Any

_lock = threading.Lock()
_real: ModuleType | None = None


class _Deferred(ModuleType):
    def __getattr__(self, name: str) -> Any:  # only called for names the stand-in doesn't have yet
        if name.startswith("__"):
            raise AttributeError(name)  # import machinery probing (__path__, __file__ ...): not a use
        return getattr(load(), name)


def defer() -> None:
    """Makes the next `import pyvips` cheap; the library loads on the first attribute read."""
    if "pyvips" in sys.modules or importlib.util.find_spec("pyvips") is None:
        return
    stand_in = _Deferred("pyvips", "pyvips, loaded on first use (app.engine.media.lazy_vips)")
    stand_in.__spec__ = None
    sys.modules["pyvips"] = stand_in


def load() -> ModuleType:
    """The real pyvips, loaded once (under a lock: two threads may ask first at the same moment, and
    while one imports it, sys.modules holds a half-initialised module the other must not use)."""
    global _real
    if _real is not None:
        return _real
    with _lock:
        if _real is None:
            current = sys.modules.get("pyvips")
            if isinstance(current, _Deferred):
                del sys.modules["pyvips"]
                try:
                    real = importlib.import_module("pyvips")
                except BaseException:
                    sys.modules["pyvips"] = current
                    raise
                # Modules that bound the stand-in see the library's names from now on.
                current.__dict__.update({k: v for k, v in vars(real).items() if not k.startswith("__")})
            else:
                real = importlib.import_module("pyvips")
            _real = real
        return _real


def loaded() -> bool:
    """Whether libvips itself is loaded (a deferred pyvips sits in sys.modules without it)."""
    return "pyvips.vimage" in sys.modules
