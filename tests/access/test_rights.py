"""Who may run which action, read which event, and connect from where."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.access.actionclasses import ActionPermissions
from gateway.access.classes import ALL, CLASS_BITS, parse_classes
from gateway.access.rights import (
    ALWAYS_ALLOWED,
    address_allowed,
    authorize_action,
    check_action,
    may_read,
    may_run,
)
from gateway.access.users import UserConfig
from gateway.errors import PermissionDenied

PERMS = ActionPermissions.builtin()
masks = st.integers(min_value=0, max_value=ALL)


def user(**kwargs: object) -> UserConfig:
    return UserConfig(name="bob", secret="x", **kwargs)  # type: ignore[arg-type]


def nets(*texts: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(t, strict=False) for t in texts)


@given(write=masks, classes=masks)
def test_may_run_is_any_shared_class(write: int, classes: int) -> None:
    assert may_run(write, classes) is (classes == 0 or write & classes != 0)


@given(write=masks)
def test_unknown_action_needs_all(write: int) -> None:
    assert may_run(write, None) is (write == ALL)


@given(read=masks, mask=masks, classes=masks)
def test_may_read_needs_every_class(read: int, mask: int, classes: int) -> None:
    expected = all(read & bit and mask & bit for bit in CLASS_BITS.values() if classes & bit)
    assert may_read(read, mask, classes) is expected


def test_reader_capture_rules() -> None:
    # ami/permission_denied_reader: no write classes; Originate and Command
    # are refused, Ping works.
    reader = user(read=parse_classes("call,system"))
    assert check_action(reader, PERMS, "Originate", []) is not None
    assert check_action(reader, PERMS, "Command", [("Command", "core show version")]) is not None
    assert check_action(reader, PERMS, "Ping", []) is None
    assert check_action(reader, PERMS, "QueueStatus", []) is None  # Priv: <none>


def test_class_denial_message_and_reason() -> None:
    denial = check_action(user(write=parse_classes("call")), PERMS, "Originate", [])
    assert denial is not None
    assert denial.message == "Permission denied"
    assert "originate" in denial.reason


def test_unknown_action_allowed_for_all_only() -> None:
    assert check_action(user(write=ALL), PERMS, "FooBar", []) is None
    denial = check_action(user(write=parse_classes("call,system")), PERMS, "FooBar", [])
    assert denial is not None
    assert "unknown" in denial.reason


def test_deny_and_allow_lists() -> None:
    admin = user(write=ALL, actions_deny=("updateconfig",))
    assert check_action(admin, PERMS, "UpdateConfig", [("SrcFilename", "a")]) is not None
    assert check_action(admin, PERMS, "GetConfig", [("Filename", "a.conf")]) is None
    narrow = user(write=ALL, actions_allow=("Originate", "Hangup"))
    assert check_action(narrow, PERMS, "hangup", [("Channel", "x")]) is None
    assert check_action(narrow, PERMS, "Redirect", []) is not None
    for name in ALWAYS_ALLOWED:
        assert check_action(narrow, PERMS, name, []) is None
        assert check_action(user(actions_deny=(name,)), PERMS, name, []) is None


def test_allow_list_does_not_grant_classes() -> None:
    weak = user(write=parse_classes("call"), actions_allow=("Originate",))
    assert check_action(weak, PERMS, "Originate", []) is not None


def test_filter_needs_system() -> None:
    assert check_action(user(write=parse_classes("call")), PERMS, "Filter", []) is not None
    assert check_action(user(write=parse_classes("system")), PERMS, "Filter", []) is None


def test_escalation_uses_asterisk_message() -> None:
    caller = user(write=parse_classes("originate,call"))
    fields = [("Channel", "Local/1@t"), ("Application", "System"), ("Data", "id")]
    denial = check_action(caller, PERMS, "Originate", fields)
    assert denial is not None
    assert denial.message == "Originate Access Forbidden: app or data blacklisted"


def test_escalation_applies_even_when_allow_listed() -> None:
    caller = user(write=parse_classes("originate"), actions_allow=("Originate",))
    fields = [("Application", "System"), ("Data", "id")]
    assert check_action(caller, PERMS, "Originate", fields) is not None


def test_dangerous_refused_for_all_unless_allow_listed() -> None:
    fields = [("Command", "module unload chan_pjsip.so")]
    denial = check_action(user(write=ALL), PERMS, "Command", fields)
    assert denial is not None
    assert denial.message == "Permission denied"
    assert "actions_allow" in denial.reason
    opted_in = user(write=ALL, actions_allow=("Command",))
    assert check_action(opted_in, PERMS, "Command", fields) is None


def test_authorize_action_raises_permission_denied() -> None:
    with pytest.raises(PermissionDenied) as info:
        authorize_action(user(), PERMS, "Originate", [])
    assert info.value.message == "Permission denied"
    authorize_action(user(), PERMS, "Ping", [])


@pytest.mark.parametrize(
    ("permit", "deny", "ip", "allowed"),
    [
        ((), (), "203.0.113.9", True),
        ((), (), "garbage", True),
        ((), ("0.0.0.0/0",), "10.1.1.1", False),
        (("10.0.0.0/8",), ("0.0.0.0/0",), "10.1.1.1", True),
        (("10.0.0.0/8",), ("0.0.0.0/0",), "11.1.1.1", False),
        (("209.16.236.73/255.255.255.0",), ("0.0.0.0/0.0.0.0",), "209.16.236.5", True),
        ((), ("192.0.2.0/24",), "192.0.2.7", False),
        ((), ("192.0.2.0/24",), "198.51.100.7", True),
        (("127.0.0.1",), (), "127.0.0.1", True),
        (("127.0.0.1",), (), "127.0.0.2", False),  # permit alone: only these
        (("127.0.0.1",), ("0.0.0.0/0",), "::ffff:127.0.0.1", True),
        (("127.0.0.1",), ("0.0.0.0/0",), "::1", True),  # v4 deny does not cover v6
        (("127.0.0.1",), ("0.0.0.0/0", "::/0"), "::1", False),
        (("::1",), ("::/0",), "[::1]", True),
        (("10.0.0.0/8",), ("0.0.0.0/0",), "not-an-ip", False),
    ],
)
def test_address_allowed(
    permit: tuple[str, ...], deny: tuple[str, ...], ip: str, allowed: bool
) -> None:
    assert address_allowed(user(permit=nets(*permit), deny=nets(*deny)), ip) is allowed
