"""The tool registry: importing a tool module registers it; load_all() imports the whole catalog."""

from __future__ import annotations

import importlib
import inspect
import os
import pkgutil
import re
from collections.abc import Callable
from dataclasses import replace

from app.engine.categories import CATEGORIES, category_for, icon_for
from app.engine.tool import SECTIONS, Action, Tool, ToolSettings

_TOOLS: dict[str, Tool] = {}
_ACTIONS: dict[tuple[str, str], Action] = {}
_ID = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
# Registrations that build on other tools (conversion presets): run once, after the whole catalog loaded.
_AFTER_LOAD: list[Callable[[], None]] = []
_after_load_done: set[Callable[[], None]] = set()


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
    if spec.models and spec.feature is None:
        raise RegistryError(f"tool {spec.id!r}: models need a feature (the bundle they belong to)")
    if spec.category is None:
        spec = replace(spec, category=category_for(spec.id, spec.section))
    if spec.category not in CATEGORIES:
        raise RegistryError(f"tool {spec.id!r}: unknown category {spec.category!r}")
    if spec.icon is None:
        spec = replace(spec, icon=icon_for(spec.id, spec.category))
    # Feature and model ids are checked against the manifest by tests/ai/test_manifest.py: the
    # manifest can grow at run time (AI_MANIFEST), so registration does not read it.
    _TOOLS[spec.id] = spec
    return spec


def register_action(spec: Action) -> Action:
    if spec.tool_id not in _TOOLS:
        raise RegistryError(f"action {spec.name!r}: register tool {spec.tool_id!r} first")
    if not _ID.match(spec.name) or spec.name == "batch":
        raise RegistryError(f"tool {spec.tool_id!r}: invalid action name {spec.name!r}")
    if (spec.tool_id, spec.name) in _ACTIONS:
        raise RegistryError(f"duplicate action {spec.tool_id}/{spec.name}")
    _ACTIONS[(spec.tool_id, spec.name)] = spec
    return spec


def get_action(tool_id: str, name: str) -> Action | None:
    return _ACTIONS.get((tool_id, name))


def actions_of(tool_id: str) -> list[Action]:
    return [a for (t, _), a in sorted(_ACTIONS.items()) if t == tool_id]


def after_load(hook: Callable[[], None]) -> Callable[[], None]:
    """Runs `hook` once every tool module is imported (tools derived from others need them first)."""
    _AFTER_LOAD.append(hook)
    return hook


def load_all() -> dict[str, Tool]:
    """Imports every module under app.tools, then any in TOOL_MODULES (comma-separated), idempotently.

    TOOL_MODULES lets a self-hoster (or the test suite) add tools without editing the catalog. Python
    keeps modules imported for the life of the process, so the catalog is what the *current*
    TOOL_MODULES names: tools from extra modules imported earlier but no longer listed stay hidden.
    """
    import app.tools

    global _active_extra
    for info in pkgutil.walk_packages(app.tools.__path__, prefix="app.tools."):
        importlib.import_module(info.name)
    extra = [m.strip() for m in os.environ.get("TOOL_MODULES", "").split(",") if m.strip()]
    for name in extra:
        importlib.import_module(name)
    for hook in _AFTER_LOAD:
        if hook not in _after_load_done:
            _after_load_done.add(hook)
            hook()
    _active_extra = frozenset(extra)
    return {t.id: t for t in _TOOLS.values() if _active(t)}


_active_extra: frozenset[str] = frozenset()


def _active(tool: Tool) -> bool:
    module = tool.run.__module__
    return module.startswith("app.tools.") or module in _active_extra


def get(tool_id: str) -> Tool | None:
    tool = _TOOLS.get(tool_id)
    return tool if tool is not None and _active(tool) else None


def all_tools() -> list[Tool]:
    return sorted((t for t in _TOOLS.values() if _active(t)), key=lambda t: (t.section, t.id))
