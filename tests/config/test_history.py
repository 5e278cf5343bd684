from __future__ import annotations

from typing import Any

import pytest

from gateway.config.history import parse_history
from gateway.errors import ConfigError
from gateway.history.settings import HistoryConfig, NumberRules


def test_defaults() -> None:
    config = parse_history({}, {})
    assert config == HistoryConfig()
    assert not config.enabled
    assert config.pbx_timezone.key == "UTC"
    assert config.numbers == NumberRules(keep_last=10, prefixes=("8", "7", "+7"), max_length=32)


def test_every_key() -> None:
    table: dict[str, Any] = {
        "enabled": True,
        "backend": "mysql",
        "path": "/tmp/x.db",
        "retention_days": 30,
        "max_rows": 1000,
        "pbx_timezone": "Asia/Yekaterinburg",
        "limit_default": 5,
        "limit_max": 10,
        "number_keep_last": 9,
        "number_prefixes": "0",
        "number_max_length": 20,
        "extra_columns": ["recordingfile", "cnum", "did"],
        "recordings_dir": "/var/spool/asterisk/monitor",
        "recording_column": "recordingfile",
        "mysql": {"unix_socket": "/run/m.sock", "password_env": "PW", "layout": "cdr_mysql"},
    }
    config = parse_history(table, {"PW": "s3cret"})
    assert config.backend == "mysql"
    assert config.pbx_timezone.key == "Asia/Yekaterinburg"
    assert config.numbers == NumberRules(keep_last=9, prefixes=("0",), max_length=20)
    assert config.mysql.password == "s3cret"
    assert config.mysql.layout == "cdr_mysql"
    assert (config.limit_default, config.limit_max, config.max_rows) == (5, 10, 1000)
    assert config.extra_columns == ("recordingfile", "cnum", "did")
    assert config.recordings_dir == "/var/spool/asterisk/monitor"
    assert config.recording_column == "recordingfile"


@pytest.mark.parametrize(
    ("table", "problem"),
    [
        ({"backend": "oracle"}, "[history] backend: 'oracle' must be one of sqlite, mysql"),
        ({"pbx_timezone": "Mars/Olympus"}, "[history] pbx_timezone: 'Mars/Olympus' is not"),
        ({"limit_default": 50, "limit_max": 10}, "[history] limit_default: must not exceed"),
        ({"number_prefixes": ["8x"]}, "[history] number_prefixes: '8x' must be up to 6 digits"),
        ({"retention_days": -1}, "[history] retention_days: must be between"),
        ({"mysql": {"table": "cdr; DROP"}}, "[history.mysql] table: 'cdr; DROP' must be"),
        ({"mysql": {"password": "a", "password_env": "B"}}, "at most one of 'password'"),
        ({"mysql": {"password_env": "NOPE"}}, "environment variable 'NOPE'"),
        ({"mysql": {"layout": "odbc"}}, "[history.mysql] layout: 'odbc' must be one of"),
        ({"mysql": 3}, "[history.mysql]: must be a table"),
        ({"pathh": "x"}, "did you mean 'path'?"),
        (
            {"backend": "mysql", "extra_columns": ["cnum", "x`y"]},
            "[history] extra_columns: 'x`y' must be a plain SQL name",
        ),
        (
            {"backend": "mysql", "extra_columns": ["cnum", "CNUM"]},
            "[history] extra_columns: 'CNUM' is named twice",
        ),
        (
            {"backend": "postgresql", "extra_columns": ["Src"]},
            "[history] extra_columns: 'Src' is already in every call",
        ),
        (
            {"backend": "mysql", "extra_columns": ["calldate"]},
            "[history] extra_columns: 'calldate' is already in every call",
        ),
        ({"extra_columns": ["cnum"]}, "[history] extra_columns: needs backend 'mysql' or"),
        ({"recording_column": "recordingfile"}, "[history] recording_column: needs backend"),
        ({"recordings_dir": "monitor"}, "[history] recordings_dir: 'monitor' must be an absolute"),
        ({"recordings_dir": "/var/spool"}, "[history] recordings_dir: needs enabled = true"),
    ],
)
def test_errors_name_the_key(table: dict[str, Any], problem: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_history(table, {})
    assert problem in str(info.value)


def test_the_path_may_hold_the_node_id_and_nothing_else() -> None:
    template = "/var/lib/ajam-gateway/{node_id}/history.sqlite3"
    config = parse_history({"path": template}, {})
    assert config.path == template  # filled in later, with the node id of --node-id
    assert config.for_node("a").path == "/var/lib/ajam-gateway/a/history.sqlite3"
    assert config.for_node("").path == "/var/lib/ajam-gateway//history.sqlite3"
    assert config.for_node("a").enabled == config.enabled
    for bad in ("/x/{node}/h.db", "/x/{node_id}/{pid}.db", "/x/{/h.db", "/x/}/h.db"):
        with pytest.raises(ConfigError, match=r"\[history\] path: .*the only placeholder is"):
            parse_history({"path": bad}, {})
