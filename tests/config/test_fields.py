"""Single-value readers: types, ranges, and messages that name the key."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.config import fields as cf
from gateway.errors import ConfigError

W = "[t] k"


def message(reader: cf.Reader, value: object) -> str:
    with pytest.raises(ConfigError) as info:
        reader(W, value)
    return info.value.message


@given(st.integers(min_value=-100, max_value=100))
def test_integer_range(value: int) -> None:
    read = cf.integer(0, 10)
    if 0 <= value <= 10:
        assert read(W, value) == value
    else:
        assert message(read, value) == f"[t] k: must be between 0 and 10, not {value}"


def test_integer_refuses_bool_float_and_text() -> None:
    read = cf.integer(0, 10)
    for value in (True, 1.0, "1"):
        assert "must be an integer" in message(read, value)


def test_number_accepts_int_and_float() -> None:
    read = cf.number(0, 10, open_low=True)
    assert read(W, 3) == 3.0
    assert isinstance(read(W, 3), float)
    assert read(W, 0.25) == 0.25
    assert "above 0" in message(read, 0)
    assert "at least 0" in message(cf.number(0, 10), -1)
    assert cf.number(0, 10)(W, 0) == 0.0
    for value in (False, "1", float("nan"), float("inf")):
        assert message(read, value).startswith(W)


def test_boolean_and_strings() -> None:
    assert cf.boolean(W, False) is False
    assert "true or false" in message(cf.boolean, "yes")
    assert cf.string(W, "") == ""
    assert "must not be empty" in message(cf.nonempty, "")
    assert cf.strings(W, "a") == ("a",)
    assert cf.strings(W, ["a", "b"]) == ("a", "b")
    assert message(cf.strings, ["a", 1]) == "[t] k[1]: must be a string, not 1"


def test_action_names() -> None:
    assert cf.action_names(W, ["Originate", "Queue_Add2"]) == ("Originate", "Queue_Add2")
    assert "not an action name" in message(cf.action_names, ["Ping; rm"])


def test_networks() -> None:
    assert cf.networks(W, ["10.1.2.3/8", "192.0.2.1", "2001:db8::1/32"]) == (
        ipaddress.ip_network("10.0.0.0/8"),
        ipaddress.ip_network("192.0.2.1/32"),
        ipaddress.ip_network("2001:db8::/32"),
    )
    assert cf.networks(W, "209.16.236.73/255.255.255.0") == (
        ipaddress.ip_network("209.16.236.0/24"),
    )
    assert "'nope' is not a network" in message(cf.networks, "nope")


def test_env_secret() -> None:
    assert cf.env_secret(W, "V", {"V": "s"}) == "s"
    with pytest.raises(ConfigError, match="'V' is not set"):
        cf.env_secret(W, "V", {})


def test_reject_unknown_suggests() -> None:
    with pytest.raises(ConfigError) as info:
        cf.reject_unknown("[x]", {"hots": 1}, ["host", "port"])
    assert info.value.message == "[x]: unknown key 'hots' (did you mean 'host'?)"
    with pytest.raises(ConfigError) as info:
        cf.reject_unknown("[x]", {"zzz": 1}, ["host"])
    assert info.value.message == "[x]: unknown key 'zzz'"


def test_read_section_and_table_of() -> None:
    readers = {"a": cf.integer(0, 5), "b": cf.boolean}
    assert cf.read_section("[s]", {"a": 1}, readers) == {"a": 1}
    with pytest.raises(ConfigError, match=r"^\[s\] b: must be true or false"):
        cf.read_section("[s]", {"b": 2}, readers)
    assert cf.table_of("[s]", {"x": 1}) == {"x": 1}
    with pytest.raises(ConfigError, match="must be a table"):
        cf.table_of("[s]", [])


def test_choice() -> None:
    read = cf.choice(("text", "json"))
    assert read(W, "json") == "json"
    assert message(read, "JSON") == "[t] k: 'JSON' must be one of text, json"
    assert message(read, 1) == "[t] k: must be a string, not 1"
