"""The set-up files agree with each other and with the app: README commands, lutra.sh, CI, Docker."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from app.config import Settings

ROOT = Path(__file__).resolve().parent.parent


def read(name: str) -> str:
    return (ROOT / name).read_text()


def apt_packages() -> list[str]:
    lines = (re.sub(r"#.*", "", line).strip() for line in read("docker/apt-packages.txt").splitlines())
    return [line for line in lines if line]


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with continuation lines joined."""
    text = re.sub(r"\\\n", " ", read("Dockerfile"))
    pairs = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            pairs.append((word.upper(), rest.strip()))
    return pairs


@pytest.mark.parametrize("command", ["serve", "test"])
def test_readme_commands_exist_in_lutra_sh(command: str) -> None:
    assert f"./lutra.sh {command}" in read("README.md")
    assert re.search(rf"^\s*{command}\)", read("lutra.sh"), re.MULTILINE), f"lutra.sh has no '{command})' branch"


def test_lutra_sh_is_strict_and_executable() -> None:
    text = read("lutra.sh")
    assert "set -euo pipefail" in text
    assert (ROOT / "lutra.sh").stat().st_mode & 0o111
    assert "docker/apt-packages.txt" in text


def test_ci_runs_the_readme_test_command() -> None:
    text = read(".ci/run")
    assert re.search(r"^\s*(exec\s+)?\./lutra\.sh test\b", text, re.MULTILINE)
    assert "set -e" in text
    assert "TEST_DATABASE_URL" in text
    assert (ROOT / ".ci/run").stat().st_mode & 0o111


def _shape(path: str) -> str:
    """A path with its parameters ({job_id}, <jobId>, $JOB) reduced to one placeholder."""
    return re.sub(r"\{[^}/]+\}|<[^>/]+>|\$[A-Za-z_]+", "{}", path)


def test_readme_walkthrough_uses_real_routes() -> None:
    served = {_shape(p) for p in yaml.safe_load(read("openapi.yaml"))["paths"]}
    used = set(re.findall(r'"\$BASE(/[^"?]*)"', read("README.md")))
    assert "/api/auth/login" in used
    unknown = sorted(p for p in used if _shape(p) not in served)
    assert not unknown, f"README calls routes the API does not have: {unknown}"


def test_readme_documents_every_setting() -> None:
    readme = read("README.md")
    missing = [name.upper() for name in Settings.model_fields if f"| `{name.upper()}` |" not in readme]
    rows = "\n".join(
        f"| `{name}` | `{Settings.model_fields[name.lower()].default}` | "
        f"{Settings.model_fields[name.lower()].description or ''} |"
        for name in missing
    )
    assert not missing, f"add these rows to the configuration table in README.md:\n{rows}"


@pytest.mark.skipif(shutil.which("dpkg-query") is None, reason="not a Debian system")
def test_apt_packages_are_installed() -> None:
    packages = apt_packages()
    assert "libvips42" in packages
    missing = []
    for package in packages:
        result = subprocess.run(
            ["dpkg-query", "-W", "-f=${Status}", package], capture_output=True, text=True, check=False
        )
        if "install ok installed" not in result.stdout:
            missing.append(package)
    assert not missing, f"not installed (run ./lutra.sh setup): {missing}"


def test_compose_runs_lutra_on_postgres() -> None:
    compose = yaml.safe_load(read("docker-compose.yml"))
    services = compose["services"]
    assert {"lutra", "postgres"} <= set(services)
    lutra, postgres = services["lutra"], services["postgres"]
    env = lutra["environment"]
    url = env["DATABASE_URL"] if isinstance(env, dict) else dict(e.split("=", 1) for e in env)["DATABASE_URL"]
    assert re.match(r"postgresql(\+psycopg)?://[^@]+@postgres(:5432)?/", url), url
    assert lutra["build"] in (".", {"context": "."})
    assert any(str(port).endswith("1349") for port in lutra["ports"])
    assert any(str(volume).endswith(":/data") for volume in lutra["volumes"])
    assert lutra["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert postgres["image"].startswith("postgres:")
    assert "pg_isready" in str(postgres["healthcheck"]["test"])
    named = {str(v).split(":")[0] for s in services.values() for v in s.get("volumes", [])}
    assert named <= set(compose.get("volumes") or {}), "named volumes must be declared at the top level"


def test_dockerfile_is_debian_non_root_and_complete() -> None:
    steps = dockerfile_instructions()
    args = {word: [rest for w, rest in steps if w == word] for word, _ in steps}
    assert args["FROM"][0].startswith("python:3.11-slim-bookworm")
    users = args.get("USER", [])
    assert users and users[-1].split(":")[0] not in ("root", "0"), "the image must run as a non-root USER"
    assert "1349" in " ".join(args["EXPOSE"]).split()
    assert any("/data" in v for v in args["VOLUME"])
    assert "/api/v1/health" in args["HEALTHCHECK"][0]
    assert "lutra" in args["CMD"][-1] and "serve" in args["CMD"][-1]
    assert "docker/apt-packages.txt" in " ".join(args["COPY"])
    # app/migrate.py finds alembic/ next to the package, so both must be in the image and app/ must not
    # be moved into site-packages by a plain install.
    for source in ("app", "alembic", "alembic.ini", "pyproject.toml"):
        assert any(source in rest.split()[:-1] for rest in args["COPY"]), f"Dockerfile does not copy {source}"
    assert any("pip install" in rest and " -e " in f"{rest} " for rest in args["RUN"])
    for rest in args["COPY"]:
        for source in rest.split()[:-1]:
            if not source.startswith("--"):
                assert (ROOT / source).exists(), f"Dockerfile copies {source}, which does not exist"


def test_dockerignore_keeps_local_state_out() -> None:
    ignored = {line.strip() for line in read(".dockerignore").splitlines()}
    assert {".git", ".venv", "data", ".env"} <= ignored


def test_compose_scales_out_with_workers_and_redis() -> None:
    services = yaml.safe_load(read("docker-compose.yml"))["services"]
    assert {"lutra", "worker", "redis", "postgres"} <= set(services)
    lutra, worker, redis = services["lutra"], services["worker"], services["redis"]
    # `docker compose up --scale worker=3` multiplies the worker: no fixed name, no published port.
    assert "container_name" not in worker and "ports" not in worker
    assert worker["command"][:2] == ["lutra", "worker"]
    assert worker["image"] == lutra["image"]
    for name in ("lutra", "worker"):
        env = services[name]["environment"]
        assert env["REDIS_URL"].startswith("redis://redis:")
        assert env["DATABASE_URL"] == lutra["environment"]["DATABASE_URL"]
        assert "lutra-data:/data" in services[name]["volumes"], "every node shares the job files"
        assert services[name]["depends_on"]["redis"]["condition"] == "service_healthy"
    assert redis["image"].startswith("redis:")
    assert "ping" in str(redis["healthcheck"]["test"])
