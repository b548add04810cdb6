"""`lutra` command: serve the app, export its OpenAPI document, run migrations."""

from __future__ import annotations

import argparse
import copy
import sys
from pathlib import Path


def _serve(args: argparse.Namespace) -> None:
    import uvicorn

    from app.config import get_settings

    settings = get_settings()
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
    export = sub.add_parser("export-openapi", help="write the OpenAPI document as YAML")
    export.add_argument("output", nargs="?", default="openapi.yaml")
    export.set_defaults(func=_export_openapi)
    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=_migrate)
    args = parser.parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
