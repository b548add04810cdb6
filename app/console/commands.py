"""The `lutra run`, `lutra tools`, `lutra pipeline run` and `lutra mcp` subcommands (argparse wiring)."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Callable
from typing import Any

from app.console.common import BAD_INPUT, DONE, CommandError, expand_inputs, parts_from, settings_from

INTERRUPTED = 130


def _remote(args: argparse.Namespace) -> Any:
    """A Remote when --server (or LUTRA_URL) names one; None runs in-process."""
    url = args.server or os.environ.get("LUTRA_URL")
    if not url:
        return None
    from app.console.remote import Remote

    return Remote(url, args.key or os.environ.get("LUTRA_API_KEY"))


def _guarded(command: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """One line on stderr and the contract's exit code instead of a traceback."""

    def run(args: argparse.Namespace) -> int:
        try:
            return command(args)
        except CommandError as exc:
            print(f"lutra: {exc.message}", file=sys.stderr)
            return exc.code
        except KeyboardInterrupt:
            print("lutra: interrupted", file=sys.stderr)
            return INTERRUPTED
        except BrokenPipeError:
            # `lutra tools | head`: the reader left; Python's own flush at exit must not complain either.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return DONE

    return run


def _run(args: argparse.Namespace) -> int:
    from app.console.listing import text_fields
    from app.console.local import check_parts

    inputs = expand_inputs(args.inputs) if args.inputs else None
    parts = parts_from(args.part)
    remote = _remote(args)
    if remote is not None:
        try:
            tool = remote.tool(args.tool)
            values = settings_from(args.settings, args.set, text_fields(tool["settingsSchema"]))
            check_parts([p["name"] for p in tool["inputs"].get("extra", [])], parts, tool["id"])
            many = inputs is not None and (inputs.expanded or len(inputs.files) > 1)
            batch = many and tool["inputs"]["maxFiles"] == 1
            return int(remote.run(tool, values, inputs, args.output, batch=batch, as_json=args.json, parts=parts))
        finally:
            remote.close()
    from app.console.local import find_tool, run_tool

    local = find_tool(args.tool)
    values = settings_from(args.settings, args.set, text_fields(local.settings.model_json_schema()))
    return asyncio.run(run_tool(local, values, inputs, args.output, as_json=args.json, parts=parts))


def _tools(args: argparse.Namespace) -> int:
    from app.console.listing import print_list, print_show

    words = list(args.words)
    remote = _remote(args)
    try:
        if remote is not None:
            catalog = remote.catalog()
        else:
            from app.engine import registry

            catalog = [t.describe() for t in registry.load_all().values()]
    finally:
        if remote is not None:
            remote.close()
    if words and words[0] == "show":
        if len(words) != 2:
            raise CommandError("usage: lutra tools show <toolId>")
        wanted = words[1].replace("/", "_")
        found = [t for t in catalog if words[1] == t["id"] or wanted == f"{t['section']}_{t['id']}"]
        if not found:
            raise CommandError(f"unknown tool {words[1]!r}; `lutra tools` lists them")
        return print_show(found[0], args.json)
    if len(words) > 1:
        raise CommandError("usage: lutra tools [SECTION] | lutra tools show <toolId>")
    return print_list(catalog, words[0] if words else None, args.json)


def _pipeline(args: argparse.Namespace) -> int:
    from app.console import pipeline

    inputs = expand_inputs(args.inputs)
    remote = _remote(args)
    if remote is not None:
        try:
            return pipeline.run_remote(remote, args.pipeline, inputs, args.output, as_json=args.json)
        finally:
            remote.close()
    return asyncio.run(pipeline.run_local(args.pipeline, inputs, args.output, as_json=args.json))


def _mcp(args: argparse.Namespace) -> int:
    if not args.stdio:
        raise CommandError("only --stdio is available here; over HTTP, Lutra serves MCP at /mcp", BAD_INPUT)
    from app.mcp.stdio import serve_stdio

    url = args.server or os.environ.get("LUTRA_URL") or "http://127.0.0.1:1349"
    asyncio.run(serve_stdio(url, args.key or os.environ.get("LUTRA_API_KEY")))
    return DONE


def _remote_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--server", metavar="URL", help="run on this Lutra server (default: $LUTRA_URL; unset: here)")
    parser.add_argument("--key", metavar="KEY", help="its API key si_... (default: $LUTRA_API_KEY)")
    parser.add_argument("--json", action="store_true", help="print the answer as the API gives it")


def add_commands(sub: Any) -> None:
    run = sub.add_parser(
        "run",
        help="run a tool on local files (exit codes: 0 done, 1 tool failed, 2 bad input, 3 server busy)",
        description="Runs a tool in-process (no server, no database) or, with --server, on a Lutra server.",
    )
    run.add_argument("tool", help="tool id, e.g. resize (or image_resize)")
    run.add_argument("inputs", nargs="*", metavar="INPUT", help="files, folders or globs (folders/globs: a batch)")
    run.add_argument("-o", "--output", help="output file, or folder for several outputs and batches")
    run.add_argument("--set", action="append", metavar="KEY=VALUE", help="one setting (repeatable; JSON values)")
    run.add_argument("--settings", metavar="JSON|@FILE", help="settings as a JSON object; --set wins")
    run.add_argument("--part", action="append", metavar="NAME=PATH", help="an extra input, e.g. watermark=logo.png")
    _remote_flags(run)
    run.set_defaults(func=_guarded(_run))

    tools = sub.add_parser("tools", help="list tools (`lutra tools [SECTION]`, `lutra tools show <toolId>`)")
    tools.add_argument("words", nargs="*", metavar="SECTION | show TOOL")
    _remote_flags(tools)
    tools.set_defaults(func=_guarded(_tools))

    pipeline = sub.add_parser("pipeline", help="run a pipeline")
    pipeline_sub = pipeline.add_subparsers(dest="action", required=True)
    pipe_run = pipeline_sub.add_parser("run", help="run a saved pipeline (id) or a pipeline file on inputs")
    pipe_run.add_argument("pipeline", help='a saved pipeline\'s id or a JSON file {"steps": [...]}')
    pipe_run.add_argument("inputs", nargs="+", metavar="INPUT")
    pipe_run.add_argument("-o", "--output", help="output file, or folder for batches")
    _remote_flags(pipe_run)
    pipe_run.set_defaults(func=_guarded(_pipeline))

    mcp = sub.add_parser("mcp", help="serve MCP over stdio for desktop assistants (a bridge to a Lutra server)")
    mcp.add_argument("--stdio", action="store_true", help="speak MCP on stdin/stdout")
    mcp.add_argument("--server", metavar="URL", help="the Lutra server (default: $LUTRA_URL or http://127.0.0.1:1349)")
    mcp.add_argument("--key", metavar="KEY", help="its API key si_... (default: $LUTRA_API_KEY)")
    mcp.set_defaults(func=_guarded(_mcp))
