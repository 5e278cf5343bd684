"""The layers of gateway/ stay as docs/design.md draws them
(tests/support/importgraph.py measures them): no import runs back up, none
goes in a circle, and at most eight modules sit at the top."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.importgraph import (
    LAYERS,
    against_layers,
    build_graph,
    cycles,
    layer,
    top_level,
)
from tests.support.procs import ROOT

GRAPH = build_graph(ROOT)


def test_every_module_is_in_a_declared_layer() -> None:
    assert {layer(module) for module in GRAPH.modules} == set(range(len(LAYERS)))


def test_no_import_runs_back_up_or_across_independent_packages() -> None:
    assert against_layers(GRAPH) == []


def test_no_import_cycles() -> None:
    assert cycles(GRAPH) == []


def test_at_most_eight_modules_at_the_top() -> None:
    top = top_level(GRAPH)
    assert len(top) <= 8, top
    assert "app" in top


def write_tree(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / "gateway" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_the_measure_sees_an_arrow_up_a_cycle_and_a_sideways_import(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "__init__.py": "",
            "ami/__init__.py": "",
            "ami/client.py": "from gateway.http.server import X\n",  # up
            "http/__init__.py": "",
            "http/server.py": "from gateway.ami import client\n",  # down, and a cycle
            "core/__init__.py": "",
            "core/sessions.py": "if True:\n    from gateway.render.base import Y\n",  # across
            "render/__init__.py": "",
            "render/base.py": "from . import json\n",
            "render/json.py": "from .base import Y\n",  # a relative cycle, in one package
            "errors.py": "",
        },
    )
    graph = build_graph(tmp_path)
    assert against_layers(graph) == [
        ("ami.client", "http.server"),
        ("core.sessions", "render.base"),
    ]
    assert cycles(graph) == [["ami.client", "http.server"], ["render.base", "render.json"]]
    assert top_level(graph) == ["__init__", "errors"]


def test_a_module_outside_every_layer_is_named() -> None:
    with pytest.raises(ValueError, match=r"gateway\.newthing is in no declared layer"):
        layer("newthing")
