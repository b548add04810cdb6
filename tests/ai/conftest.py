"""AI tests run on SQLite only, like the tool tests: models and media engines don't touch the database."""

import pytest


@pytest.fixture
def backend() -> str:
    return "sqlite"
