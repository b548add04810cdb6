"""One app per conversion test module (tests/tools/av.py's `av`, on SQLite: these tests exercise the
media engines, not the database) and one set of generated samples per session."""

from __future__ import annotations

import pytest

from tests.conversion.samples import Samples
from tests.tools.av import av

__all__ = ["av"]


@pytest.fixture
def backend() -> str:
    return "sqlite"


@pytest.fixture(scope="session")
def samples(tmp_path_factory: pytest.TempPathFactory) -> Samples:
    return Samples(tmp_path_factory.mktemp("samples"))
