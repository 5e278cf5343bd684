"""The simulator's facts against the captures they were taken from."""

from __future__ import annotations

import pytest

from gateway.access.classes import parse_classes
from gateway.simulator.captured import (
    ACTIONS,
    ACTIONS_BY_NAME,
    BANNER,
    DIALPLAN,
    VERSION_LINE,
    listcommands_lines,
    show_commands_lines,
)
from tests.support.amimask import parse_stream
from tests.support.fixturedata import ami_recv


def _response(case: str, action_id: str) -> list[tuple[str, str]]:
    for message in parse_stream(ami_recv(case)):
        if message.kind == "response" and message.get("ActionID") == action_id:
            return list(message.fields)
    raise AssertionError(f"no response {action_id} in {case}")


def test_banner_is_the_captured_line() -> None:
    assert ami_recv("ping").startswith(BANNER)


def test_listcommands_lines_are_the_captured_ones() -> None:
    fields = _response("listcommands", "lc-1")
    assert fields[2:] == listcommands_lines()
    assert len(ACTIONS) == 100


def test_show_commands_is_the_captured_output() -> None:
    recv = ami_recv("command_multiline")
    start = recv.index(b"Response: Success\r\nActionID: cmd-multi-1")
    lines = recv[start:].decode().split("\r\n")
    outputs = [line.removeprefix("Output: ") for line in lines if line.startswith("Output: ")]
    assert outputs == show_commands_lines()  # leading spaces included


def test_version_line_is_the_captured_one() -> None:
    assert ("Output", VERSION_LINE) in _response("command_core_show_version", "cmd-ver-1")


@pytest.mark.parametrize(
    ("name", "classes", "privilege"),
    [
        ("originate", "originate", "originate,all"),
        ("ping", "", "<none>"),
        ("status", "system,call,reporting", "system,call,reporting,all"),
    ],
)
def test_action_classes(name: str, classes: str, privilege: str) -> None:
    info = ACTIONS_BY_NAME[name]
    assert info.classes == classes
    assert info.privilege == privilege


def test_every_action_class_is_known() -> None:
    for info in ACTIONS:
        parse_classes(info.classes)  # raises on a typo


@pytest.mark.parametrize(
    ("case", "exten"),
    [("originate_async_events", "100"), ("dialplan_userevent", "300"), ("status_list", "600")],
)
def test_dialplan_is_what_the_captured_calls_ran(case: str, exten: str) -> None:
    ran = [
        (m.get("Application"), m.get("AppData"))
        for m in parse_stream(ami_recv(case))
        if m.name == "Newexten" and (m.get("Channel") or "").endswith(";2")
        if m.get("Exten") == exten
    ]
    assert ran == list(DIALPLAN[exten])[: len(ran)]
    assert len(ran) >= 2
