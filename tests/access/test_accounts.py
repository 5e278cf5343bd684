from __future__ import annotations

import pytest

from gateway.access.accounts import MAX_SESSION_FILTERS, Accounts
from gateway.ami.challenge import md5_key
from gateway.ami.message import Message
from gateway.config import parse_config
from gateway.errors import AmiLevelError, PermissionDenied


def accounts() -> Accounts:
    return Accounts(
        parse_config(
            {
                "ami": {"username": "gw", "secret": "gw"},
                "users": {
                    "admin": {"secret": "s", "read": "all", "write": "all", "max_sessions": 2},
                    "lan": {"secret": "s", "read": "call", "write": "call", "deny": ["0.0.0.0/0"],
                            "permit": ["10.0.0.0/8"]},
                    "filtered": {"secret": "s", "read": "all", "eventfilter": ["Event: Hangup"]},
                }
            },
            {},
        ).users
    )  # fmt: skip


def test_logins_name_the_security_event_on_failure() -> None:
    acc = accounts()
    identity, failure = acc.check_login("ADMIN", "127.0.0.1", secret="s", md5=None)
    assert identity is not None
    assert (identity.username, failure) == ("admin", "")
    assert acc.check_login("nobody", "127.0.0.1", secret="s", md5=None) == (
        None,
        "InvalidAccountID",
    )
    assert acc.check_login("admin", "127.0.0.1", secret="x", md5=None) == (None, "InvalidPassword")
    assert acc.check_login("lan", "192.0.2.1", secret="s", md5=None) == (None, "FailedACL")
    assert acc.check_login("lan", "10.1.2.3", secret="s", md5=None)[0] is not None
    good = acc.check_login("admin", "127.0.0.1", secret=None, md5=("123", md5_key("123", "s")))
    assert good[0] is not None
    bad = acc.check_login("admin", "127.0.0.1", secret=None, md5=("123", "00"))
    assert bad == (None, "ChallengeResponseFailed")


def test_action_rights_and_learning_from_listcommands() -> None:
    acc = accounts()
    lan = acc.identity(acc.user("lan"))  # type: ignore[arg-type]
    acc.check_action(lan, "Hangup", [("Action", "Hangup")])
    with pytest.raises(PermissionDenied):
        acc.check_action(lan, "Command", [("Action", "Command"), ("Command", "core show version")])
    assert acc.exists("FooBar")  # the built-in table is not authoritative
    acc.learn_actions(
        Message.of(("Response", "Success"), ("Ping", "Keepalive command.  (Priv: <none>)"))
    )
    assert acc.permissions.authoritative
    assert acc.exists("ping")
    assert not acc.exists("FooBar")
    acc.learn_actions(Message.of(("Response", "Error")))
    assert acc.exists("ping")


def test_filters_and_limits() -> None:
    acc = accounts()
    filtered = acc.identity(acc.user("filtered"))  # type: ignore[arg-type]
    assert filtered.event_filter is not None
    hangup = Message.of(("Event", "Hangup"))
    assert filtered.event_filter.matches("Event: Hangup\r\n", hangup)
    combined = acc.add_filter(filtered.event_filter, None, "Event: Newchannel")
    assert combined.matches("Event: Newchannel\r\n", Message.of(("Event", "Newchannel")))
    with pytest.raises(AmiLevelError):
        acc.add_filter(None, "bogus(x)", "y")
    current = acc.add_filter(None, None, "a")
    for _ in range(MAX_SESSION_FILTERS - 1):
        current = acc.add_filter(current, None, "a")
    with pytest.raises(AmiLevelError, match="Too many filters"):
        acc.add_filter(current, None, "a")
    assert acc.max_sessions("admin") == 2
    assert acc.max_sessions("nobody") is None
    with pytest.raises(PermissionDenied):
        acc.check_action(filtered.__class__("gone", 0, 0), "Ping", [])
