"""Runs Alembic migrations programmatically (start-up and tests use this, never create_all).

Alembic (with Mako, Pygments and Rich) adds about 13 MB to a process. A database already at the
newest revision is recognised with one query and the revision ids read from alembic/versions/, so a
restarted server never loads Alembic at all; `lutra serve` runs a needed upgrade in a child process
(`python -m app.migrate`), so a first start does not keep it either.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import create_engine, inspect, text

if TYPE_CHECKING:
    from alembic.config import Config

ROOT = Path(__file__).resolve().parent.parent
_REVISION = re.compile(r"^(down_revision|revision)\s*=\s*['\"]?([\w]+)?['\"]?", re.MULTILINE)


def alembic_config(url: str) -> Config:
    from alembic.config import Config

    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "alembic"))
    cfg.attributes["url"] = url
    return cfg


def head_revisions() -> set[str]:
    """The revisions no other revision builds on, read from the migration files' headers."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (ROOT / "alembic" / "versions").glob("*.py"):
        found = dict((key, value) for key, value in _REVISION.findall(path.read_text()))
        if found.get("revision"):
            revisions.add(found["revision"])
        if found.get("down_revision") and found["down_revision"] != "None":
            parents.add(found["down_revision"])
    return revisions - parents


def database_revisions(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            if not inspect(conn).has_table("alembic_version"):
                return set()
            return {row[0] for row in conn.execute(text("SELECT version_num FROM alembic_version"))}
    finally:
        engine.dispose()


def upgrade(url: str) -> None:
    if not needs_upgrade(url):
        return
    from alembic import command

    command.upgrade(alembic_config(url), "head")


def needs_upgrade(url: str) -> bool:
    return database_revisions(url) != head_revisions()


if __name__ == "__main__":
    from app.config import get_settings

    upgrade(get_settings().sqlalchemy_url)
