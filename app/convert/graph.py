"""Any-to-any conversion: the shortest chain of catalog tools from one content kind to another.

Nodes are content kinds (sniff.py's names: jpeg, heif, markdown, ...); edges are what tools declare
they produce (Tool.produces) from what they take. A route has the fewest steps (at most MAX_STEPS);
ties go to the lowest sum of the tools' preferences, then to tool ids and kinds in alphabetical
order, so the same catalog always gives the same route. This module imports neither FastAPI nor
SQLAlchemy: the HTTP edge hands it the tools a user may run.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from app.engine.media.sniff import expand_kinds
from app.engine.tool import Produces, Tool

MAX_STEPS = 4

# Names people type for a format -> the content kind (also accepts every kind's own name).
ALIASES = {
    "jpg": "jpeg",
    "jpe": "jpeg",
    "heic": "heif",
    "tif": "tiff",
    "md": "markdown",
    "yml": "yaml",
    "htm": "html",
    "text": "txt",
    "excel": "xlsx",
    "word": "docx",
    "powerpoint": "pptx",
}


def normalise(name: str) -> str:
    """A format as typed ("JPG", ".heic", "md") as a content kind ("jpeg", "heif", "markdown")."""
    clean = name.strip().lower().lstrip(".")
    return ALIASES.get(clean, clean)


def chainable(tool: Tool) -> bool:
    """Whether a tool can be a step: it takes the previous file, needs no second upload and no model."""
    return tool.inputs.takes_files and not any(p.required for p in tool.inputs.extra) and tool.feature is None


@dataclass(frozen=True)
class Edge:
    tool: Tool
    produces: Produces
    source: str

    @property
    def target(self) -> str:
        return self.produces.to

    def describe(self) -> dict[str, Any]:
        return {
            "toolId": self.tool.id,
            "section": self.tool.section,
            "settings": dict(self.produces.settings),
            "from": self.source,
            "to": self.target,
        }


@dataclass(frozen=True)
class Route:
    source: str
    target: str
    edges: tuple[Edge, ...]

    def describe(self) -> dict[str, Any]:
        return {
            "from": self.source,
            "to": self.target,
            "steps": [e.describe() for e in self.edges],
            "toolIds": [e.tool.id for e in self.edges],
        }


def _sources(tool: Tool, produces: Produces) -> list[str]:
    return expand_kinds(produces.from_kinds or tool.inputs.kinds)


Cost = tuple[int, int, tuple[str, ...], tuple[str, ...]]  # steps, preference sum, tool ids, kinds


class Graph:
    """The conversion graph of a set of tools; routes from a kind are worked out once and kept."""

    def __init__(self, tools: Iterable[Tool]) -> None:
        edges: dict[str, list[Edge]] = {}
        for tool in tools:
            if not chainable(tool):
                continue
            for produces in tool.produces:
                for source in _sources(tool, produces):
                    if source != produces.to:
                        edges.setdefault(source, []).append(Edge(tool, produces, source))
        for found in edges.values():
            found.sort(key=lambda e: (e.produces.preference, e.tool.id, e.target))
        self.edges = edges
        self.kinds = sorted(set(edges) | {e.target for found in edges.values() for e in found})
        self._routes: dict[str, dict[str, Route]] = {}

    def routes_from(self, source: str) -> dict[str, Route]:
        """The best route to every kind reachable from `source` (Dijkstra on the cost tuple: adding a
        step to two paths keeps their order, so the first path to settle a kind is its best)."""
        if source in self._routes:
            return self._routes[source]
        best: dict[str, tuple[Cost, tuple[Edge, ...]]] = {}
        settled: set[str] = set()
        start: Cost = (0, 0, (), ())
        heap: list[tuple[Cost, str, tuple[Edge, ...]]] = [(start, source, ())]
        while heap:
            cost, kind, path = heapq.heappop(heap)
            if kind in settled:
                continue
            settled.add(kind)
            if len(path) == MAX_STEPS:
                continue
            for edge in self.edges.get(kind, ()):
                if edge.target == source:
                    continue
                steps, preference, ids, kinds = cost
                next_cost: Cost = (steps + 1, preference + edge.produces.preference, (*ids, edge.tool.id),
                                   (*kinds, edge.target))  # fmt: skip
                next_path = (*path, edge)
                if edge.target not in best or next_cost < best[edge.target][0]:
                    best[edge.target] = (next_cost, next_path)
                # Tools that may give several files (pages) end a route: the next tool takes one file.
                if not edge.produces.several and edge.target not in settled:
                    heapq.heappush(heap, (next_cost, edge.target, next_path))
        routes = {target: Route(source, target, path) for target, (_, path) in sorted(best.items())}
        self._routes[source] = routes
        return routes

    def route(self, source: str, target: str) -> Route | None:
        return self.routes_from(source).get(target)

    def matrix(self) -> dict[str, list[str]]:
        """Every source kind with the kinds it converts to."""
        return {kind: list(self.routes_from(kind)) for kind in self.kinds if self.routes_from(kind)}


@lru_cache(maxsize=8)
def graph_of(tools: tuple[Tool, ...]) -> Graph:
    """The graph of a catalog (cached: the visible catalog rarely changes)."""
    return Graph(tools)
