"""Action class table: built in, and learned from the ListCommands capture."""

from __future__ import annotations

import pytest

from gateway.access.actionclasses import SESSION_ACTIONS, ActionPermissions
from gateway.access.classes import CLASS_BITS, parse_classes
from gateway.ami.message import Message
from gateway.errors import ProtocolError
from tests.support.fixturedata import listcommands_response


def test_learned_table_matches_the_capture() -> None:
    perms = ActionPermissions.from_listcommands(listcommands_response())
    assert perms.authoritative
    assert len(perms) == 100
    assert perms.classes("Originate") == parse_classes("originate")
    assert perms.classes("Status") == parse_classes("system,call,reporting")
    assert perms.classes("GetConfig") == parse_classes("system,config")
    assert perms.classes("QueueStatus") == 0  # Asterisk 22 registers it with <none>
    assert perms.classes("Filter") == CLASS_BITS["system"]
    assert perms.classes("FooBar") is None


def test_builtin_agrees_with_the_capture() -> None:
    learned = ActionPermissions.from_listcommands(listcommands_response())
    builtin = ActionPermissions.builtin()
    assert not builtin.authoritative
    assert builtin.names() == learned.names()
    for name in learned.names():
        assert builtin.classes(name) == learned.classes(name), name


def test_lookup_is_case_insensitive_and_keeps_spelling() -> None:
    perms = ActionPermissions.builtin()
    assert perms.classes("coreshowchannels") == parse_classes("system,reporting")
    # Whole names, as action_find compares them (issue 11, item 11): the
    # dispatcher has skipped the leading blanks; a trailing one is kept.
    assert perms.classes("coreshowchannels ") is None
    assert perms.canonical("Par\u212a") is None  # Python's lower() folds the Kelvin sign to k
    assert perms.canonical("COREshowCHANNELS") == "CoreShowChannels"
    assert perms.canonical("nope") is None
    assert "PING" in perms
    assert 5 not in perms


def test_session_actions_keep_their_classes_whatever_asterisk_says() -> None:
    reply = Message.of(
        ("Response", "Success"),
        ("Filter", "Add a filter.  (Priv: <none>)"),
        ("Login", "Login Manager.  (Priv: system,all)"),
        ("Custom", "A module action (with parens).  (Priv: call,all)"),
    )
    perms = ActionPermissions.from_listcommands(reply)
    assert perms.classes("Filter") == CLASS_BITS["system"]
    assert perms.classes("Login") == 0
    assert perms.classes("Custom") == CLASS_BITS["call"]
    assert set(SESSION_ACTIONS) <= set(perms.names())


def test_lines_without_priv_stay_unknown() -> None:
    reply = Message.of(("Response", "Success"), ("ActionID", "x"), ("Odd", "no tail"))
    perms = ActionPermissions.from_listcommands(reply)
    assert perms.classes("Odd") is None
    assert perms.classes("ActionID") is None


def test_failed_listcommands_is_a_protocol_error() -> None:
    reply = Message.of(("Response", "Error"), ("Message", "Permission denied"))
    with pytest.raises(ProtocolError, match="Permission denied"):
        ActionPermissions.from_listcommands(reply)
