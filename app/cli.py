"""`lutra` command: serve the app, run a worker (scaled mode), export the OpenAPI document, migrate, and
run tools (app.console)."""

from __future__ import annotations

import argparse
import copy
import gc
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.config import Settings


def _serve(args: argparse.Namespace) -> None:
    # Start-up builds ~1M long-lived objects (models, routes, schemas): the cyclic collector would scan
    # them over and over on the way, 0.2 s of a 1 s start. The lifespan freezes them and turns it back on
    # (app.main.settle_start_up_objects).
    gc.disable()
    from app.system.heap import limit_arenas

    limit_arenas()  # before any thread allocates: the thread pool would otherwise keep an arena each
    import uvicorn

    from app.config import get_settings

    settings = get_settings()
    if settings.redis_url:
        from app.cluster.connection import check_reachable

        problem = check_reachable(settings.redis_url)
        if problem:
            sys.exit(problem)  # one clear line, not a traceback
    _preflight_or_exit(settings)
    _migrate_in_a_child(settings)
    # uvicorn's own logging set-up, plus Lutra's loggers (start-up facts such as the AI providers,
    # job failures) on the same stream and format.
    log_config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    log_config["loggers"]["lutra"] = {"handlers": ["default"], "level": settings.log_level.upper(), "propagate": False}
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=args.host or settings.host,
        port=args.port or settings.port,
        log_level=settings.log_level,
        log_config=log_config,
        # X-Forwarded-For is applied by the app itself from TRUST_PROXY (app.main), under any server;
        # uvicorn's own default would believe it from 127.0.0.1 whatever the setting says.
        proxy_headers=False,
    )


def _migrate_in_a_child(settings: Settings) -> None:
    """Brings the schema up to date in a child process: the server then never loads Alembic (its
    lifespan finds the database at the newest revision with one query)."""
    import subprocess

    from app.migrate import needs_upgrade

    if needs_upgrade(settings.sqlalchemy_url) and subprocess.run([sys.executable, "-m", "app.migrate"]).returncode:
        sys.exit("lutra: the database schema could not be brought up to date (see the lines above)")


def _worker(args: argparse.Namespace) -> None:
    import logging
    import os

    from app.cluster.worker import main as worker_main
    from app.config import get_settings

    level = get_settings().log_level.upper()
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    queues = [q.strip() for q in args.queues.split(",") if q.strip()] or ["default"]
    worker_main(args.concurrency or os.cpu_count() or 1, queues, level)


def _preflight_or_exit(settings: Settings) -> None:
    """A database that cannot be opened stops the start with one line, not a long traceback."""
    from app.system.maintenance import describe_startup_error, preflight

    try:
        preflight(settings)
    except Exception as exc:
        sys.exit(describe_startup_error(exc, settings))


def _check(_: argparse.Namespace) -> None:
    from app.config import get_settings
    from app.system.maintenance import check

    findings = check(get_settings())
    for ok, line in findings:
        print(("ok      " if ok else "PROBLEM ") + line)
    sys.exit(0 if all(ok for ok, _ in findings) else 1)


def _backup(args: argparse.Namespace) -> None:
    from app.config import get_settings
    from app.system.maintenance import MaintenanceError, backup

    try:
        manifest = backup(get_settings(), Path(args.folder).resolve())
    except (MaintenanceError, OSError) as exc:
        sys.exit(f"lutra backup: {exc}")
    print(f"Backup written to {manifest.parent}")


def _restore(args: argparse.Namespace) -> None:
    from app.config import get_settings
    from app.system.maintenance import MaintenanceError, restore

    try:
        restore(get_settings(), Path(args.folder).resolve())
    except (MaintenanceError, OSError) as exc:
        sys.exit(f"lutra restore: {exc}")
    print(f"Restored from {args.folder}; start Lutra again")


def _export_openapi(args: argparse.Namespace) -> None:
    from app.docs import openapi_yaml
    from app.main import create_app

    text = openapi_yaml(create_app())
    if args.output == "-":
        sys.stdout.write(text)
    else:
        Path(args.output).write_text(text)


def _migrate(_: argparse.Namespace) -> None:
    from app.config import get_settings
    from app.migrate import upgrade

    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.sqlalchemy_url)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="lutra", description="Lutra media toolbox")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the HTTP server")
    serve.add_argument("--host", default=None)
    serve.add_argument("--port", type=int, default=None)
    serve.set_defaults(func=_serve)
    worker = sub.add_parser("worker", help="run jobs for the API nodes (scaled mode: needs REDIS_URL)")
    worker.add_argument("--concurrency", type=int, default=0, help="jobs at once (default: CPU cores)")
    worker.add_argument("--queues", default="default", help="queues to serve, e.g. default,gpu")
    worker.set_defaults(func=_worker)
    export = sub.add_parser("export-openapi", help="write the OpenAPI document as YAML")
    export.add_argument("output", nargs="?", default="openapi.yaml")
    export.set_defaults(func=_export_openapi)
    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=_migrate)
    sub.add_parser("check", help="check the database, library and disk; exit 1 on a problem").set_defaults(func=_check)
    backup = sub.add_parser("backup", help="copy the database and file library into a new folder")
    backup.add_argument("folder")
    backup.set_defaults(func=_backup)
    restore = sub.add_parser("restore", help="replace the database and library with a backup (server stopped)")
    restore.add_argument("folder")
    restore.set_defaults(func=_restore)
    from app.console.commands import add_commands

    add_commands(sub)
    args = parser.parse_args(argv)
    code = args.func(args)
    if isinstance(code, int) and code:
        sys.exit(code)


if __name__ == "__main__":
    main()
