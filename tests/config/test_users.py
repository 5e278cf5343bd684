"""``[users.NAME]`` tables."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.access.classes import ALL, CLASS_NAMES, format_classes, parse_classes
from gateway.access.credentials import hash_secret
from gateway.access.users import MAX_FILTERS, UserConfig
from gateway.config.users import parse_user, parse_users
from gateway.errors import ConfigError

HASH = hash_secret("pw", method="pbkdf2_sha256", salt=bytes(16), iterations=10_000)


def error_of(table: dict[str, Any], env: dict[str, str] | None = None, name: str = "bob") -> str:
    with pytest.raises(ConfigError) as info:
        parse_user(name, table, env or {})
    return info.value.message


def test_full_user() -> None:
    user = parse_user(
        "bob",
        {
            "secret_hash": HASH,
            "digest_ha1": "F12027A4CD4BD3C05BCA9CC6685D4224",
            "read": ["call", "system"],
            "write": "originate,call",
            "permit": "10.0.0.0/8",
            "deny": ["0.0.0.0/0"],
            "eventfilter": ["!Channel: Local/", "eventfilter(name(Hangup)) ="],
            "actions_allow": ["Originate"],
            "actions_deny": "Command",
            "max_sessions": 3,
        },
        {},
    )
    assert user.secret is None
    assert user.secret_hash == HASH
    assert user.digest_ha1 == "f12027a4cd4bd3c05bca9cc6685d4224"
    assert user.read == parse_classes("call,system")
    assert user.write == parse_classes("call,originate")
    assert user.actions_allow == ("Originate",)
    assert user.actions_deny == ("Command",)
    assert len(user.event_filter.rules) == 2
    assert user.max_sessions == 3


def test_defaults_grant_nothing() -> None:
    user = parse_user("bob", {"secret": "x"}, {})
    assert (user.read, user.write, user.actions_allow, user.max_sessions) == (0, 0, None, None)
    assert not user.event_filter


@pytest.mark.parametrize(
    ("table", "fragment"),
    [
        ({"secret": "x", "read": "call,cal"}, "[users.bob] read: unknown permission class 'cal'"),
        (
            {"secret": "x", "write": ["system", "sytem"]},
            "[users.bob] write: unknown permission class 'sytem'",
        ),
        ({}, "[users.bob]: give exactly one of 'secret', 'secret_hash' and 'secret_env'"),
        ({"secret": "x", "secret_hash": HASH}, "exactly one"),
        ({"secret": ""}, "[users.bob] secret: must not be empty"),
        ({"secret_hash": "plain-text"}, "[users.bob] secret_hash: expected"),
        ({"secret_hash": "plain-text"}, "hash-secret"),
        ({"secret": "x", "digest_ha1": "abc"}, "[users.bob] digest_ha1: digest_ha1 must be 32"),
        (
            {"secret": "x", "permit": "10.0.0.300"},
            "[users.bob] permit: '10.0.0.300' is not a network",
        ),
        ({"secret": "x", "eventfilter": "a[b"}, "[users.bob] eventfilter: 'a[b' does not compile"),
        (
            {"secret": "x", "eventfilter": ["eventfilter(name(A),method(exact)) ="]},
            "needs a pattern",
        ),
        (
            {"secret": "x", "eventfilter": ["x"] * (MAX_FILTERS + 1)},
            f"at most {MAX_FILTERS} filters",
        ),
        ({"secret": "x", "max_sessions": 0}, "[users.bob] max_sessions: must be between 1"),
        (
            {"secret": "x", "actions_allow": ["Orig inate"]},
            "[users.bob] actions_allow: 'Orig inate'",
        ),
        (
            {"secret": "x", "readd": "all"},
            "[users.bob]: unknown key 'readd' (did you mean 'read'?)",
        ),
        ({"secret_env": "PW"}, "[users.bob] secret_env: environment variable 'PW' is not set"),
    ],
)
def test_user_errors(table: dict[str, Any], fragment: str) -> None:
    assert fragment in error_of(table)


@pytest.mark.parametrize("name", ["", "a b", "a:b", "x" * 80, "tab\tname"])
def test_bad_user_names(name: str) -> None:
    assert "a user name is" in error_of({"secret": "x"}, name=name)


def test_secret_env() -> None:
    assert parse_user("bob", {"secret_env": "PW"}, {"PW": "from-env"}).secret == "from-env"


def test_names_that_differ_only_in_case_collide() -> None:
    with pytest.raises(ConfigError, match=r"\[users.BOB\]: same name as \[users.bob\]"):
        parse_users({"bob": {"secret": "x"}, "BOB": {"secret": "y"}}, {})
    users = parse_users({"Alice": {"secret": "x"}}, {})
    assert list(users) == ["alice"]
    with pytest.raises(ConfigError, match="must be a table"):
        parse_users({"bob": "x"}, {})


@given(st.sets(st.sampled_from(CLASS_NAMES)))
def test_class_lists_and_strings_agree(names: set[str]) -> None:
    as_list = parse_user("u", {"secret": "x", "read": sorted(names)}, {}).read
    as_text = parse_user("u", {"secret": "x", "read": ",".join(sorted(names))}, {}).read
    assert as_list == as_text == parse_classes(names)
    assert parse_classes(format_classes(as_list)) == as_list


def test_all_and_none() -> None:
    user = parse_user("u", {"secret": "x", "read": "all", "write": "none"}, {})
    assert (user.read, user.write) == (ALL, 0)


def test_direct_construction_compiles_filters() -> None:
    with pytest.raises(ValueError, match=r"."):
        UserConfig(name="u", eventfilter=("eventfilter(bogus(x)) =",))
    assert UserConfig(name="u", eventfilter=("Event: X",)).event_filter
