"""Start-up errors as one line, `lutra check`, and `lutra backup` / `lutra restore` (SQLite and PostgreSQL)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import make_client, sign_in_admin
from tests.engine.helpers import png

ROOT = Path(__file__).resolve().parent.parent


def lutra(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """The `lutra` command in a child process, with this test's DATA_DIR / DATABASE_URL."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


def test_a_corrupt_database_stops_start_up_with_one_clear_line(app_env: Path, backend: str) -> None:
    if backend != "sqlite":
        return  # a corrupt file is SQLite's failure; PostgreSQL's own server guards its files
    app_env.mkdir(parents=True)
    db_file = app_env / "lutra.db"
    db_file.write_bytes(b"this is not a database" * 200)
    done = lutra("serve", "--port", "1", timeout=60)
    assert done.returncode != 0
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr  # before: a 158-line traceback without the path
    assert str(db_file) in lines[0] and "lutra restore" in lines[0] and "lutra check" in lines[0]
    assert "Traceback" not in done.stderr

    check = lutra("check")
    assert check.returncode == 1
    assert any(line.startswith("PROBLEM") and str(db_file) in line for line in check.stdout.splitlines())


def test_backup_and_restore_bring_back_the_database_and_the_library(app_env: Path, tmp_path: Path) -> None:
    image = png(12, 9)
    with make_client() as c:
        sign_in_admin(c)
        r = c.post("/api/v1/files/upload", files={"file": ("kept.png", image, "image/png")})
        assert r.status_code == 201, r.text
        kept = r.json()["files"][0]["id"]

    done = lutra("check")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 files" in done.stdout
    backup_dir = tmp_path / "backup"
    done = lutra("backup", str(backup_dir))
    assert done.returncode == 0, done.stderr
    assert (backup_dir / "lutra-backup.json").is_file()
    assert lutra("backup", str(backup_dir)).returncode != 0  # never over an earlier backup

    with make_client() as c:
        sign_in_admin(c, first_start=False)
        assert c.request("DELETE", "/api/v1/files", json={"ids": [kept]}).status_code == 200
        r = c.post("/api/v1/files/upload", files={"file": ("later.png", png(5, 5), "image/png")})
        assert r.status_code == 201
        assert [f["originalName"] for f in c.get("/api/v1/files").json()["files"]] == ["later.png"]

    done = lutra("restore", str(backup_dir))
    assert done.returncode == 0, done.stderr

    with make_client() as c:
        sign_in_admin(c, first_start=False)
        files = c.get("/api/v1/files").json()["files"]
        assert [f["originalName"] for f in files] == ["kept.png"]
        assert c.get(f"/api/v1/files/{kept}/download").content == image
    assert lutra("check").returncode == 0


def test_restore_refuses_a_folder_that_is_not_a_backup(app_env: Path, tmp_path: Path) -> None:
    done = lutra("restore", str(tmp_path))
    assert done.returncode != 0 and "not a Lutra backup" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
