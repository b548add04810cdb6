"""Tool tests exercise media engines, not the database: they run on SQLite only, which halves their time.

The platform and engine tests cover both databases.
"""

import pytest


@pytest.fixture
def backend() -> str:
    return "sqlite"
