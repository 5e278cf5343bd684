"""The shape of ``gateway/``: its layers, its import arrows, one request's walk.

``python3 tests/support/importgraph.py [--root DIR] [--walk]`` prints, for
the tree at ``DIR`` (this checkout by default):

* the import arrows that run against the declared layer order (``LAYERS``):
  a module importing from a higher layer, or from another package of its
  own layer (layers whose packages must stay independent);
* the import cycles (strongly connected modules, ``TYPE_CHECKING`` and
  function-level imports included: a cycle hidden from the interpreter is
  still one a reader has to hold in mind);
* the modules at the top of ``gateway/``;
* with ``--walk``, the files one AJAM request walks through: the gateway
  (with the simulator as Asterisk) answers a logged-in cookie session's
  ``action=Ping`` on ``/rawman`` while a profiler records every gateway
  function entered; stops are functions, climbs are calls from a lower
  layer's file into a higher one's.

Modules of the flat layout before issue 12 are placed by ``OLD_HOMES``
(where each went), so that a checkout of that era can be measured too.
``tests/test_layers.py`` keeps the figures that must stay 0 at 0.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

LAYERS: Final[tuple[tuple[str, ...], ...]] = (
    ("errors", "tasks", "logs"),
    ("ami",),
    ("access",),
    ("render", "core", "history", "simulator"),
    ("http", "amiserver"),
    ("push",),  # over http: its streams are authenticated and framed as AJAM's
    ("config",),
    ("app", "wiring", "lifecycle", "cli", "__main__", ""),
)
"""Lowest first.  A module may import from its own package and from lower
layers; the packages of one layer are independent of each other, except in
the top layer, whose few modules wire the rest together.  ``""`` is
``gateway/__init__.py``."""

OPEN_LAYERS: Final = frozenset({len(LAYERS) - 1})
"""Layers whose packages may import each other (the wiring at the top)."""

OLD_HOMES: Final[Mapping[str, str]] = {
    "accounts": "access",
    "actionperms": "access",
    "actionpolicy": "access",
    "auth": "access",
    "classes": "access",
    "credentials": "access",
    "eventfilter": "access",
    "configusers": "access",
    "astvalues": "access",
    "clitokens": "access",
    "expressions": "access",
    "posixre": "access",
    "sendbudget": "core",
    "events": "core",
    "sessions": "core",
    "waitevent": "core",
    "dispatch": "core",
    "replies": "core",
    "nonces": "core",
    "ratelimit": "core",
    "metrics": "core",
    "security": "core",
    "oneshot": "http",
    "clientaddr": "http",
    "configfields": "config",
    "cli_tools": "cli",
    "simulator": "simulator",
}
"""The flat modules of the layout before issue 12, by the package each went to
(``sim_*`` went to ``simulator``)."""


@dataclass(frozen=True, slots=True)
class Graph:
    modules: frozenset[str]
    """Dotted names below ``gateway`` (``ami.client``; ``""`` is the package)."""
    edges: frozenset[tuple[str, str]]


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root / "gateway").with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imported(tree: ast.Module, here: str, is_package: bool) -> Iterator[str]:
    """Every ``gateway`` module or name this file imports, as dotted names."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "gateway":
                    yield alias.name
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node, here, is_package)
            if base is None or base.split(".")[0] != "gateway":
                continue
            for alias in node.names:
                yield f"{base}.{alias.name}"


def _absolute(node: ast.ImportFrom, here: str, is_package: bool) -> str | None:
    if node.level == 0:
        return node.module
    package = ("gateway." + here).rstrip(".").split(".")
    if not is_package:
        package.pop()
    package = package[: len(package) - (node.level - 1)]
    return ".".join(package + ([node.module] if node.module else []))


def build_graph(root: Path) -> Graph:
    files = sorted((root / "gateway").rglob("*.py"))
    modules = {module_name(root, path): path for path in files}
    edges: set[tuple[str, str]] = set()
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for dotted in _imported(tree, name, path.name == "__init__.py"):
            target = dotted.removeprefix("gateway").removeprefix(".")
            # ``from gateway.x import y``: y is a module, else a name in x.
            if target not in modules:
                target = target.rpartition(".")[0]
            if target in modules and target != name:
                edges.add((name, target))
    return Graph(frozenset(modules), frozenset(edges))


def home(module: str) -> str:
    """The package (or top-level module) a module belongs to."""
    head = module.split(".")[0]
    if head.startswith("sim_"):
        return "simulator"
    return OLD_HOMES.get(head, head)


def layer(module: str) -> int:
    where = home(module)
    for rank, packages in enumerate(LAYERS):
        if where in packages:
            return rank
    raise ValueError(f"gateway.{module} is in no declared layer ({where!r})")


def against_layers(graph: Graph) -> list[tuple[str, str]]:
    """Arrows that climb to a higher layer, or cross to another package of
    a layer whose packages are independent."""
    bad = []
    for source, target in sorted(graph.edges):
        if home(source) == home(target):
            continue
        low, high = layer(source), layer(target)
        if high > low or (high == low and low not in OPEN_LAYERS):
            bad.append((source, target))
    return bad


def cycles(graph: Graph) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan)."""
    out: dict[str, list[str]] = {m: [] for m in graph.modules}
    for source, target in graph.edges:
        out[source].append(target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in out[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return sorted(found)


def top_level(graph: Graph) -> list[str]:
    """The modules directly in ``gateway/``, ``__init__`` included."""
    packages = {m.split(".")[0] for m in graph.modules if "." in m}
    return sorted(m or "__init__" for m in graph.modules if "." not in m and m not in packages)


@dataclass(slots=True)
class Walk:
    files: list[str] = field(default_factory=list)
    stops: int = 0
    climbs: list[tuple[str, str]] = field(default_factory=list)
    request_files: list[str] = field(default_factory=list)
    """Files with a function the aiohttp request object is handed to: how far
    a reader must follow ``request`` (the caller resolver should end that)."""
    request_stops: int = 0
    caller_files: list[str] = field(default_factory=list)
    """Files entered before the request reaches the dispatcher: where a reader
    must look to see who the caller is (session, user, address)."""


WALK_SCRIPT: Final = r"""
import asyncio, dataclasses, json, sys
import aiohttp
from pathlib import Path
from aiohttp import ClientSession, CookieJar, web
from aiohttp.test_utils import TestServer
from gateway.app import GATEWAY, create_app
from gateway.config import demo_config
from gateway.simulator import Simulator

ROOT = str(Path(sys.argv[1]).resolve() / "gateway") + "/"
SKIP = (ROOT + "sim_", ROOT + "simulator")
stops, edges, handed, before_action = set(), set(), set(), set()
acting = [False]  # the request has reached the dispatcher: its caller is known

def simulated(frame):
    while frame is not None:
        if frame.f_code.co_filename.startswith(SKIP):
            return True
        frame = frame.f_back
    return False

def profile(frame, event, arg):
    if event != "call":
        return
    name = frame.f_code.co_filename
    if not name.startswith(ROOT) or simulated(frame):
        return
    stops.add((name[len(ROOT):], frame.f_code.co_qualname))
    if frame.f_code.co_qualname == "Dispatcher.handle":
        acting[0] = True
    if not acting[0]:
        before_action.add((name[len(ROOT):], frame.f_code.co_qualname))
    if any(isinstance(value, web.BaseRequest) for value in frame.f_locals.values()):
        handed.add((name[len(ROOT):], frame.f_code.co_qualname))
    caller = frame.f_back
    if caller is not None and caller.f_code.co_filename.startswith(ROOT):
        edges.add((caller.f_code.co_filename[len(ROOT):], name[len(ROOT):]))

async def main():
    sim = Simulator(call_events=0)
    port = await sim.start("127.0.0.1", 0)
    config = demo_config()
    config = dataclasses.replace(
        config,
        ami=dataclasses.replace(config.ami, port=port),
        history=dataclasses.replace(config.history, enabled=False),
    )
    app = create_app(config)
    server = TestServer(app)
    await server.start_server()
    gateway = app[GATEWAY]
    while not (gateway.ami.ready and gateway.accounts.permissions.authoritative):
        await asyncio.sleep(0.01)
    async with ClientSession(cookie_jar=CookieJar(unsafe=True)) as http:
        base = f"http://127.0.0.1:{server.port}/asterisk/rawman"
        login = await http.get(base + "?action=login&username=admin&secret=admin")
        assert "Authentication accepted" in await login.text()
        for _ in range(3):  # warm: first-call caches, lazy imports
            await (await http.get(base + "?action=ping")).read()
        acting[0] = False
        sys.setprofile(profile)
        answer = await http.get(base + "?action=ping")
        body = await answer.text()
        sys.setprofile(None)
        assert "Pong" in body, body
        if sys.argv[2] == "all":  # the same Ping by HTTP Basic, then by mansession_id
            session = login.cookies["mansession_id"].value
            async with ClientSession() as bare:
                basic = aiohttp.BasicAuth("admin", "admin")
                for kind in ({"auth": basic}, {"params": {"mansession_id": session}}):
                    for _ in range(3):
                        await (await bare.get(base + "?action=ping", **kind)).read()
                    acting[0] = False
                    sys.setprofile(profile)
                    answer = await bare.get(base + "?action=ping", **kind)
                    body = await answer.text()
                    sys.setprofile(None)
                    assert "Pong" in body, body
    await server.close()
    await sim.stop()
    print(json.dumps({"stops": sorted(stops), "edges": sorted(edges), "handed": sorted(handed),
        "before_action": sorted(before_action)}))

asyncio.run(main())
"""


def walk(root: Path, *, every_way: bool = False) -> Walk:
    """One cookie session's ``action=Ping`` through the gateway at ``root``;
    ``every_way``: the same Ping by HTTP Basic and by ``mansession_id`` too."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    done = subprocess.run(
        [sys.executable, "-c", WALK_SCRIPT, str(root), "all" if every_way else "cookie"],
        cwd=root,  # ``-c`` puts the working directory first on sys.path
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    data = json.loads(done.stdout.strip().splitlines()[-1])
    stops = [tuple(stop) for stop in data["stops"]]
    handed = [tuple(stop) for stop in data["handed"]]
    result = Walk(
        files=sorted({file for file, _ in stops}),
        stops=len(stops),
        request_files=sorted({file for file, _ in handed}),
        request_stops=len(handed),
        caller_files=sorted({file for file, _ in data["before_action"]}),
    )
    for caller, callee in data["edges"]:
        a, b = _file_module(caller), _file_module(callee)
        if home(a) != home(b) and layer(a) < layer(b):
            result.climbs.append((caller, callee))
    return result


def _file_module(relative: str) -> str:
    parts = list(Path(relative).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def report(root: Path, *, with_walk: bool, every_way: bool = False) -> dict[str, object]:
    graph = build_graph(root)
    bad = against_layers(graph)
    found = cycles(graph)
    top = top_level(graph)
    result: dict[str, object] = {
        "modules": len(graph.modules),
        "arrows against the layers": len(bad),
        "import cycles": len(found),
        "top-level modules": len(top),
        "details": {
            "arrows": [f"{a} -> {b}" for a, b in bad],
            "cycles": [" <-> ".join(group) for group in found],
            "top": top,
        },
    }
    if with_walk:
        trip = walk(root, every_way=every_way)
        result["walk: files"] = len(trip.files)
        result["walk: stops"] = trip.stops
        result["walk: climbs"] = len(trip.climbs)
        result["walk: files handed the request"] = len(trip.request_files)
        result["walk: functions handed the request"] = trip.request_stops
        result["walk: files before the dispatcher"] = len(trip.caller_files)
        details = result["details"]
        assert isinstance(details, dict)
        details["walk"] = trip.files
        details["request"] = trip.request_files
        details["caller"] = trip.caller_files
        details["climbs"] = [f"{a} -> {b}" for a, b in trip.climbs]
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", default=str(Path(__file__).resolve().parents[2]))
    parser.add_argument("--walk", action="store_true", help="also trace one AJAM request")
    parser.add_argument(
        "--every-way",
        action="store_true",
        help="walk the Ping by cookie, HTTP Basic and mansession_id (with --walk)",
    )
    parser.add_argument("--details", action="store_true", help="list the arrows and cycles")
    args = parser.parse_args(argv)
    result = report(Path(args.root), with_walk=args.walk, every_way=args.every_way)
    details = result.pop("details")
    for key, value in result.items():
        print(f"{key}: {value}")
    if args.details:
        print(json.dumps(details, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
