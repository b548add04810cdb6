"""Migrations: the cheap "already at head" check agrees with Alembic, and a current database skips Alembic."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from alembic.script import ScriptDirectory

from app.migrate import ROOT, alembic_config, database_revisions, head_revisions, upgrade


def test_head_revisions_match_alembics_own() -> None:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert head_revisions() == set(script.get_heads())


def test_a_database_at_head_is_not_migrated_again_and_alembic_stays_unloaded(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'lutra.db'}"
    assert database_revisions(url) == set()
    upgrade(url)
    assert database_revisions(url) == head_revisions()
    # A second start in a fresh interpreter: one query, and Alembic is never imported.
    probe = (
        "import sys; from app.migrate import upgrade; "
        f"upgrade({url!r}); print('alembic' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
