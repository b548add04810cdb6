"""The tool registry: importing a tool module registers it; load_all() imports the whole catalog."""

from __future__ import annotations

import importlib
import inspect
import os
import pkgutil
import re

from app.engine.tool import SECTIONS, Tool, ToolSettings

_TOOLS: dict[str, Tool] = {}
_ID = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


class RegistryError(Exception):
    pass


def register(spec: Tool) -> Tool:
    if not _ID.match(spec.id):
        raise RegistryError(f"tool id {spec.id!r} must be kebab-case")
    if spec.section not in SECTIONS:
        raise RegistryError(f"tool {spec.id!r}: unknown section {spec.section!r}")
    if spec.id in _TOOLS:
        raise RegistryError(f"duplicate tool id {spec.id!r}")
    if not (isinstance(spec.settings, type) and issubclass(spec.settings, ToolSettings)):
        raise RegistryError(f"tool {spec.id!r}: settings must subclass ToolSettings")
    params = list(inspect.signature(spec.run).parameters)
    if len(params) != 2:
        raise RegistryError(f"tool {spec.id!r}: run(ctx, settings) takes exactly two parameters")
    if spec.inputs.min_files > spec.inputs.max_files:
        raise RegistryError(f"tool {spec.id!r}: min_files > max_files")
    _TOOLS[spec.id] = spec
    return spec


def load_all() -> dict[str, Tool]:
    """Imports every module under app.tools, then any in TOOL_MODULES (comma-separated), idempotently.

    TOOL_MODULES lets a self-hoster (or the test suite) add tools without editing the catalog.
    """
    import app.tools

    for info in pkgutil.walk_packages(app.tools.__path__, prefix="app.tools."):
        importlib.import_module(info.name)
    for name in filter(None, (m.strip() for m in os.environ.get("TOOL_MODULES", "").split(","))):
        importlib.import_module(name)
    return _TOOLS


def get(tool_id: str) -> Tool | None:
    return _TOOLS.get(tool_id)


def all_tools() -> list[Tool]:
    return sorted(_TOOLS.values(), key=lambda t: (t.section, t.id))
