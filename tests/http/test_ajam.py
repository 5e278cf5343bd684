from __future__ import annotations

import pytest

from gateway.http.ajam import match_format, safe_action_id


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/asterisk/rawman", "rawman"),
        ("/asterisk/rawman/", "rawman"),
        ("/ASTERISK/RAWMAN", "rawman"),
        ("/asterisk/Mxml", "mxml"),
        ("/asterisk/manager", "manager"),
        ("/asterisk/json", "json"),
        ("/asterisk/arawman", "arawman"),
        ("/asterisk/AMXML/", "amxml"),
        ("/asterisk/amanager", "amanager"),
        ("/asterisk/ajson", None),
        ("/asterisk//rawman", None),
        ("/asterisk/rawman/extra", None),
        ("/asterisk/rawmanx", None),
        ("/other/rawman", None),
        ("/", None),
    ],
)
def test_paths_match_as_in_asterisk(path: str, name: str | None) -> None:
    assert match_format("/asterisk", path) == name


def test_root_prefix() -> None:
    assert match_format("", "/rawman") == "rawman"


def test_safe_action_id_drops_a_bad_one() -> None:
    assert safe_action_id([("ActionID", "ok")]) == "ok"
    assert safe_action_id([("ActionID", "x\r\nAction: Ping")]) is None
    assert safe_action_id([]) is None
