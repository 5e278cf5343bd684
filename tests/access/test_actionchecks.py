"""Field checks: Asterisk's own escalation rules and the gateway's deny-list."""

from __future__ import annotations

import pytest

from gateway.access.actionchecks import (
    GETVAR_FORBIDDEN,
    ORIGINATE_FORBIDDEN,
    STATUS_FORBIDDEN,
    dangerous_reason,
    escalation_reason,
    field_value,
    field_values,
)
from gateway.access.classes import ALL, parse_classes

ORIGINATE_ONLY = parse_classes("originate")
SYSTEM = parse_classes("system")
AGI = parse_classes("agi")


def originate(app: str, data: str = "") -> list[tuple[str, str]]:
    return [("Channel", "Local/100@test"), ("Application", app), ("Data", data)]


@pytest.mark.parametrize(
    ("app", "data", "write", "refused"),
    [
        ("Wait", "1", ORIGINATE_ONLY, False),
        ("System", "rm -rf /", ORIGINATE_ONLY, True),
        ("TrySystem", "x", ORIGINATE_ONLY, True),
        ("exec", "System(x)", ORIGINATE_ONLY, True),
        ("EAGI", "/bin/sh", ORIGINATE_ONLY, True),
        ("MixMonitor", "a.wav", ORIGINATE_ONLY, True),
        ("Originate", "x", ORIGINATE_ONLY, True),
        ("Reload", "", ORIGINATE_ONLY, True),
        ("DBdeltree", "x", ORIGINATE_ONLY, True),
        ("ExternalIVR", "x", ORIGINATE_ONLY, True),
        ("System", "x", SYSTEM, False),
        ("System", "x", ALL, False),
        ("exec", "x", AGI, True),
        ("NoOp", "${SHELL(id)}", ORIGINATE_ONLY, True),
        ("NoOp", "${shell(id)}", ORIGINATE_ONLY, False),  # Asterisk's check is case-sensitive
        ("NoOp", "${EVAL(${X})}", ORIGINATE_ONLY, True),
        ("NoOp", "${DB(a/b)}", ORIGINATE_ONLY, True),
        ("NoOp", "${CURL(http://x)}", ORIGINATE_ONLY, True),
        ("Queue", "q1", ORIGINATE_ONLY, False),
        ("Queue", "q1,t,,,30,agi-script", ORIGINATE_ONLY, True),
        ("Queue", "q1,t,,,30,agi-script", AGI, False),
        ("Queue", "q1,t,,,30,agi-script", SYSTEM, False),
        ("Queue", 'q1,"t,x"', ORIGINATE_ONLY, True),
        ("Queue", "q1,t,,,30,,gosub", ORIGINATE_ONLY, False),
    ],
)
def test_originate_escalation(app: str, data: str, write: int, refused: bool) -> None:
    reason = escalation_reason("Originate", originate(app, data), write)
    assert reason == (ORIGINATE_FORBIDDEN if refused else None)


def test_originate_without_application_is_not_checked() -> None:
    fields = [("Channel", "x"), ("Context", "test"), ("Exten", "100"), ("Data", "${SHELL(x)}")]
    assert escalation_reason("originate", fields, ORIGINATE_ONLY) is None


def test_getvar_and_status_escalation() -> None:
    assert escalation_reason("Getvar", [("Variable", "SHELL(id)")], 0) == GETVAR_FORBIDDEN
    assert escalation_reason("getvar", [("variable", "EVAL(x)")], 0) == GETVAR_FORBIDDEN
    assert escalation_reason("Getvar", [("Variable", "SHELL(id)")], SYSTEM) is None
    assert escalation_reason("Getvar", [("Variable", "LEN(x)")], 0) is None
    assert escalation_reason("Status", [("Variables", "A,SHELL(id)")], 0) == STATUS_FORBIDDEN
    assert escalation_reason("Status", [], 0) is None
    assert escalation_reason("Ping", [("Variable", "SHELL")], 0) is None


@pytest.mark.parametrize(
    ("action", "fields"),
    [
        ("Originate", originate("System", "id")),
        ("Originate", originate("TryExec", "x")),
        ("Originate", originate("AGI", "agi://x")),
        ("Originate", originate("Playback", "${shell(id)}")),
        ("Originate", [("Application", "Wait"), ("Variable", "FILE(/etc/x)=y")]),
        ("Originate", [("Exten", "1"), ("Variable", "A=1"), ("Variable", "B=${CURL(http://x)}")]),
        ("DialplanExtensionAdd", [("Application", "System"), ("ApplicationData", "id")]),
        ("DialplanExtensionAdd", [("Application", "NoOp"), ("ApplicationData", "${SHELL(x)}")]),
        ("Command", [("Command", "module load chan_x.so")]),
        ("Command", [("Command", "  MODULE   unload   res_x.so ")]),
        ("Command", [("Command", "module reload")]),
        ("Command", [("Command", "core restart now")]),
        ("Command", [("Command", "core stop gracefully")]),
        ("Command", [("Command", "restart now")]),
        ("Command", [("Command", "dialplan add extension 1,1,System,id into test")]),
        ("Command", [("Command", "dialplan save")]),
        ("Command", [("Command", "logger add channel /tmp/x notice")]),
        ("GetConfig", [("Filename", "/etc/passwd")]),
        ("GetConfig", [("Filename", "../../etc/passwd")]),
        ("GetConfigJSON", [("Filename", "a/../../b")]),
        ("ListCategories", [("Filename", " /etc/shadow")]),
        ("CreateConfig", [("Filename", "..\\x")]),
        ("UpdateConfig", [("SrcFilename", "sip.conf"), ("DstFilename", "/etc/cron.d/x")]),
        ("ModuleLoad", [("LoadType", "reload")]),
        ("MixMonitor", [("Channel", "x"), ("File", "a.wav"), ("Command", "rm -rf /")]),
        ("AGI", [("Channel", "x"), ("Command", "EXEC System id")]),
        ("AGI", [("Channel", "x"), ("Command", "SET VARIABLE FILE(/x) y")]),
        ("Getvar", [("Variable", "FILE(/etc/passwd)")]),
        ("Setvar", [("Variable", "FILE(/tmp/x)"), ("Value", "y")]),
        ("Status", [("Variables", "A,ODBC_X(1)")]),
    ],
)
def test_dangerous_uses(action: str, fields: list[tuple[str, str]]) -> None:
    reason = dangerous_reason(action, fields)
    assert reason is not None
    assert reason


@pytest.mark.parametrize(
    ("action", "fields"),
    [
        ("Originate", originate("Wait", "1")),
        ("Originate", [("Channel", "x"), ("Context", "test"), ("Exten", "100"), ("Priority", "1")]),
        ("Originate", [("Application", "Dial"), ("Variable", "FILENAME=x")]),
        ("Command", [("Command", "core show channels")]),
        ("Command", [("Command", "module show like pjsip")]),
        ("Command", [("Command", "dialplan show test")]),
        ("Command", []),
        ("GetConfig", [("Filename", "sip.conf")]),
        ("GetConfig", [("Filename", "sub/dir.conf")]),
        ("GetConfig", [("Filename", "x..y.conf")]),
        ("UpdateConfig", [("SrcFilename", "a.conf"), ("DstFilename", "a.conf")]),
        ("MixMonitor", [("Channel", "x"), ("File", "a.wav")]),
        ("AGI", [("Channel", "x"), ("Command", "EXEC Playback hello")]),
        ("Getvar", [("Variable", "LEN(hello)")]),
        ("Setvar", [("Variable", "X"), ("Value", "${SHELL(id)}")]),
        ("Ping", [("Command", "module load x")]),
    ],
)
def test_ordinary_uses(action: str, fields: list[tuple[str, str]]) -> None:
    assert dangerous_reason(action, fields) is None


def test_field_lookup_is_case_insensitive() -> None:
    fields = [("variable", "a"), ("VARIABLE", "b"), ("Other", "c")]
    assert field_value(fields, "Variable") == "a"
    assert field_values(fields, "Variable") == ["a", "b"]
    assert field_value(fields, "Missing") == ""
