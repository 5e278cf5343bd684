"""deploy/prometheus/ajam-gateway.rules.yml: promtool accepts it; its shape
(a YAML schema check that needs no promtool); each alert fires on the series
that should fire it and stays quiet on healthy ones (``promtool test
rules``); and it reads only metrics a running gateway exports."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.deploykit import run, tool
from tests.support.procs import ROOT
from tests.support.promql import metric_names, unknown

RULES = ROOT / "deploy" / "prometheus" / "ajam-gateway.rules.yml"
REQUIRED = {
    "AjamAmiDown",
    "AjamLoginFailureSpike",
    "AjamEventsLost",
    "AjamHistoryDrops",
    "AjamConnectionsNearLimit",
    "AjamFileDescriptorsNearLimit",
}
DURATION = re.compile(r"^\d+[smhd]$")
GW = 'instance="gw:8101", job="ajam-gateway"'
AT = {"instance": "gw:8101", "job": "ajam-gateway"}
SUMMED = {"instance": "gw:8101"}  # sum by (instance) drops the job


def critical(**labels: str) -> dict[str, str]:
    return {"severity": "critical", **AT, **labels}


def warning(**labels: str) -> dict[str, str]:
    return {"severity": "warning", **AT, **labels}


@dataclass(frozen=True)
class Case:
    alert: str
    series: dict[str, str]
    """series -> its samples, one a minute, in promtool's notation"""
    at: str
    fires: list[dict[str, str]]


CASES = (
    Case("AjamGatewayDown", {f"up{{{GW}}}": "1 0 0 0"}, "3m", [critical()]),
    Case("AjamGatewayDown", {f"up{{{GW}}}": "1 1 1 1"}, "3m", []),
    Case("AjamAmiDown", {f"ajam_ami_up{{{GW}}}": "1 0 0 0"}, "3m", [critical()]),
    Case("AjamAmiDown", {f"ajam_ami_up{{{GW}}}": "1 1 0 1"}, "3m", []),  # a blip
    Case(
        "AjamAmiLoginRefused",
        {f"ajam_ami_login_failures_total{{{GW}}}": "0 0 1 1"},
        "3m",
        [critical()],
    ),
    Case("AjamAmiLoginRefused", {f"ajam_ami_login_failures_total{{{GW}}}": "0 0 0 0"}, "3m", []),
    Case(
        "AjamLoginFailureSpike",
        {f'ajam_login_failures_total{{event="InvalidPassword", {GW}}}': "0+20x20"},
        "15m",
        [{"severity": "warning", **SUMMED}],
    ),
    Case(
        "AjamLoginFailureSpike",
        {f'ajam_login_failures_total{{event="InvalidPassword", {GW}}}': "0+5x20"},
        "15m",
        [],
    ),
    Case(
        "AjamEventsLost",
        {
            f'ajam_events_dropped_total{{reason="ring_overflow", {GW}}}': "0 0 5 5",
            f'ajam_events_dropped_total{{reason="filtered", {GW}}}': "0 100 200 300",
        },
        "3m",
        [warning(reason="ring_overflow")],
    ),
    Case(
        "AjamEventsLost",  # filtering is normal
        {
            f'ajam_events_dropped_total{{reason="ring_overflow", {GW}}}': "0 0 0 0",
            f'ajam_events_dropped_total{{reason="filtered", {GW}}}': "0 100 200 300",
        },
        "3m",
        [],
    ),
    Case(
        "AjamHistoryDrops",
        {f'ajam_history_dropped_total{{reason="queue_full", {GW}}}': "0 0 3 3"},
        "3m",
        [warning(reason="queue_full")],
    ),
    Case(
        "AjamHistoryDrops",
        {f'ajam_history_dropped_total{{reason="queue_full", {GW}}}': "0 0 0 0"},
        "3m",
        [],
    ),
    Case(
        "AjamConnectionsNearLimit",
        {
            f"ajam_http_connections{{{GW}}}": "9000+0x10",
            f"ajam_http_max_connections{{{GW}}}": "10000+0x10",
        },
        "7m",
        [warning()],
    ),
    Case(
        "AjamConnectionsNearLimit",  # a raised limit: the same 9000 is fine
        {
            f"ajam_http_connections{{{GW}}}": "9000+0x10",
            f"ajam_http_max_connections{{{GW}}}": "20000+0x10",
        },
        "7m",
        [],
    ),
    Case(
        "AjamSessionsNearLimit",
        {
            f'ajam_sessions{{state="authenticated", {GW}}}': "10000+0x10",
            f'ajam_sessions{{state="unauthenticated", {GW}}}': "7000+0x10",
        },
        "7m",
        [{"severity": "warning", **SUMMED}],
    ),
    Case(
        "AjamSessionsNearLimit",
        {
            f'ajam_sessions{{state="authenticated", {GW}}}': "10000+0x10",
            f'ajam_sessions{{state="unauthenticated", {GW}}}': "1000+0x10",
        },
        "7m",
        [],
    ),
    Case(
        "AjamFileDescriptorsNearLimit",
        {f"process_open_fds{{{GW}}}": "60000+0x10", f"process_max_fds{{{GW}}}": "65536+0x10"},
        "7m",
        [warning()],
    ),
    Case(
        "AjamFileDescriptorsNearLimit",
        {f"process_open_fds{{{GW}}}": "1000+0x10", f"process_max_fds{{{GW}}}": "65536+0x10"},
        "7m",
        [],
    ),
    Case(
        "AjamActionTimeouts",
        {f'ajam_actions_total{{action="Ping", outcome="timeout", {GW}}}': "0+1x10"},
        "8m",
        [{"severity": "warning", **SUMMED}],
    ),
    Case(
        "AjamActionTimeouts",
        {f'ajam_actions_total{{action="Ping", outcome="success", {GW}}}': "0+100x10"},
        "8m",
        [],
    ),
)


def rules() -> list[dict[str, Any]]:
    document = yaml.safe_load(RULES.read_text())
    return [rule for group in document["groups"] for rule in group["rules"]]


def promtool() -> str:
    return tool("promtool", "prometheus")


def test_promtool_check_rules_accepts_it() -> None:
    result = run([promtool(), "check", "rules", str(RULES)])
    assert result.returncode == 0, result.stdout
    assert f"SUCCESS: {len(rules())} rules found" in result.stdout


def test_the_rules_have_the_expected_shape() -> None:
    document = yaml.safe_load(RULES.read_text())
    assert list(document) == ["groups"]
    [group] = document["groups"]
    assert group["name"] == "ajam-gateway"
    names = [rule["alert"] for rule in group["rules"]]
    assert len(names) == len(set(names))
    assert set(names) >= REQUIRED
    for rule in group["rules"]:
        assert set(rule) <= {"alert", "expr", "for", "labels", "annotations"}, rule
        assert re.fullmatch(r"Ajam[A-Z][A-Za-z]+", rule["alert"])
        assert isinstance(rule["expr"], str)
        assert rule["expr"].strip()
        assert DURATION.match(rule.get("for", "0s")), rule["alert"]
        assert rule["labels"]["severity"] in {"critical", "warning"}
        assert set(rule["annotations"]) == {"summary", "description"}


def test_every_alert_has_a_case_that_fires_it_and_one_that_does_not() -> None:
    names = {rule["alert"] for rule in rules()}
    assert {c.alert for c in CASES if c.fires} == names
    assert {c.alert for c in CASES if not c.fires} == names


def test_each_alert_fires_when_it_should(tmp_path: Path) -> None:
    # Annotations are text for people (promtool check rules parses their
    # templates); the cases check when an alert fires and with what labels.
    document = yaml.safe_load(RULES.read_text())
    for group in document["groups"]:
        for rule in group["rules"]:
            del rule["annotations"]
    bare = tmp_path / "rules.yml"
    bare.write_text(yaml.safe_dump(document))
    tests = [
        {
            "name": f"{c.alert} {'fires' if c.fires else 'quiet'}",
            "interval": "1m",
            "input_series": [{"series": s, "values": v} for s, v in c.series.items()],
            "alert_rule_test": [
                {
                    "eval_time": c.at,
                    "alertname": c.alert,
                    "exp_alerts": [{"exp_labels": labels} for labels in c.fires],
                }
            ],
        }
        for c in CASES
    ]
    spec = tmp_path / "tests.yml"
    spec.write_text(yaml.safe_dump({"rule_files": [str(bare)], "tests": tests}))
    result = run([promtool(), "test", "rules", str(spec)], cwd=tmp_path)
    assert result.returncode == 0, result.stdout
    assert "SUCCESS" in result.stdout


def test_the_rules_read_only_exported_metrics(exported_names: frozenset[str]) -> None:
    used = set().union(*(metric_names(rule["expr"]) for rule in rules()))
    assert "ajam_ami_up" in used
    assert unknown(used, exported_names) == set()


@pytest.mark.parametrize(
    ("expr", "names"),
    [
        (
            'sum by (instance) (rate(ajam_login_failures_total{event="x"}[5m])) * 60 > 10',
            {"ajam_login_failures_total"},
        ),
        (
            'process_open_fds{job="a"} / on (instance) process_max_fds > 0.8',
            {"process_open_fds", "process_max_fds"},
        ),
        ("histogram_quantile(0.99, sum by (le) (rate(a_bucket[$__rate_interval])))", {"a_bucket"}),
        ("up == 0 and ignoring (job) b offset 5m", {"up", "b"}),
    ],
)
def test_metric_names_reads_promql(expr: str, names: set[str]) -> None:
    assert metric_names(expr) == names


def test_a_running_gateway_exports_process_series_and_no_created(
    exported_names: frozenset[str],
) -> None:
    process = {"process_open_fds", "process_max_fds", "process_resident_memory_bytes"}
    assert process | {"process_cpu_seconds_total"} <= exported_names
    assert not [name for name in exported_names if name.endswith("_created")]
