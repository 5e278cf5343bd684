"""deploy/grafana/ajam-gateway.json: a dashboard Grafana can import, with
the panels issue 15 asks for, whose queries are valid PromQL (promtool
parses them as recording rules) and read only metrics a running gateway
exports."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

from tests.support.deploykit import run, tool
from tests.support.procs import ROOT
from tests.support.promql import metric_names, unknown

DASHBOARD = ROOT / "deploy" / "grafana" / "ajam-gateway.json"
WANTED = {
    # what the dashboard must show -> a metric that shows it
    "connections": "ajam_http_connections",
    "their limit": "ajam_http_max_connections",
    "held long polls": "ajam_pending_polls",
    "sessions": "ajam_sessions",
    "AMI link": "ajam_ami_up",
    "actions by outcome": "ajam_actions_total",
    "event delivery latency": "ajam_event_delivery_seconds_bucket",
    "login failures": "ajam_login_failures_total",
    "history": "ajam_history_recorded_total",
    "history drops": "ajam_history_dropped_total",
    "file descriptors": "process_open_fds",
}
GRAFANA_VARIABLES = {"$__rate_interval": "5m", "$instance": ".*"}


def dashboard() -> dict[str, Any]:
    document = json.loads(DASHBOARD.read_text())
    assert isinstance(document, dict)
    return document


def panels() -> list[dict[str, Any]]:
    return [panel for panel in dashboard()["panels"] if panel["type"] != "row"]


def expressions() -> list[str]:
    return [target["expr"] for panel in panels() for target in panel["targets"]]


def test_it_is_an_importable_dashboard() -> None:
    document = dashboard()
    assert document["uid"] == "ajam-gateway"
    assert document["title"] == "ajam-gateway"
    assert isinstance(document["schemaVersion"], int)
    ids = [panel["id"] for panel in document["panels"]]
    assert len(ids) == len(set(ids))
    variables = {v["name"]: v for v in document["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    for panel in panels():
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
        assert panel["targets"], panel["title"]
        assert panel["description"], panel["title"]
        assert set(panel["gridPos"]) == {"h", "w", "x", "y"}
        assert panel["gridPos"]["x"] + panel["gridPos"]["w"] <= 24


def test_it_shows_what_an_operator_needs() -> None:
    used = set().union(*(metric_names(expr) for expr in expressions()))
    missing = {what for what, metric in WANTED.items() if metric not in used}
    assert missing == set()


def test_every_query_is_valid_promql(tmp_path: Path) -> None:
    def plain(expr: str) -> str:
        for variable, value in GRAFANA_VARIABLES.items():
            expr = expr.replace(variable, value)
        assert "$" not in expr, expr
        return expr

    records = [
        {"record": f"dashboard:query{n}", "expr": plain(expr)}
        for n, expr in enumerate(expressions())
    ]
    rules = tmp_path / "dashboard.rules.yml"
    rules.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": records}]}))
    result = run([tool("promtool", "prometheus"), "check", "rules", str(rules)])
    assert result.returncode == 0, result.stdout


def test_every_query_reads_exported_metrics(exported_names: frozenset[str]) -> None:
    variable = next(v for v in dashboard()["templating"]["list"] if v["name"] == "instance")
    # Grafana's label_values(METRIC, LABEL): the metric is a selector.
    selector = re.fullmatch(r"label_values\((.+), instance\)", variable["definition"])
    assert selector is not None, variable["definition"]
    queries = [*expressions(), selector.group(1)]
    used = set().union(*(metric_names(query) for query in queries))
    assert unknown(used, exported_names) == set()
