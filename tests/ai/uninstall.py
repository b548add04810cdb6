"""Taking an installed model away for one test, so that one app serves the with- and without-model cases
(two apps can't share the test process: they share its database engine)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def uninstalled(model_file: Path) -> Iterator[None]:
    """The model counts as missing while its file is moved aside (Lutra checks the files per request)."""
    away = model_file.with_suffix(".away")
    model_file.rename(away)
    try:
        yield
    finally:
        away.rename(model_file)
