"""Remote-mode tests run against a real `lutra serve` (the browser tests' `server` fixture)."""

from tests.web.conftest import server

__all__ = ["server"]
