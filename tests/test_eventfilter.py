"""manager.conf event filters: both syntaxes and the include/exclude rule."""

from __future__ import annotations

import re

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from gateway.ami.message import Message
from gateway.errors import AmiLevelError
from gateway.eventfilter import (
    COMPILE_ERROR,
    FORMAT_ERROR,
    MAX_PATTERN_LENGTH,
    EventFilter,
    parse_filter_action,
    parse_rule,
    parse_spec,
)
from gateway.posixre import PatternError


def event(*pairs: tuple[str, str]) -> tuple[str, Message]:
    message = Message.of(*pairs)
    text = "".join(f"{k}: {v}\r\n" for k, v in pairs)
    return text, message


NEWCHANNEL = event(("Event", "Newchannel"), ("Channel", "XXX"), ("Someheader", "YYY"))
VARSET = event(("Event", "VarSet"), ("Channel", "ABC"), ("Someheader", "XXX"))


def passes(specs: list[str], ev: tuple[str, Message]) -> bool:
    return EventFilter.from_specs(specs).matches(*ev)


# Asterisk 22's own parsing cases (main/manager.c eventfilter tests), as facts:
# (criteria, pattern, event, expected delivery with that single filter).
SINGLE_FILTER_CASES = [
    ("eventfilter", "XXX", NEWCHANNEL, True),
    ("eventfilter", "!XXX", VARSET, False),
    ("eventfilter(name(VarSet),method(none))", "", VARSET, True),
    ("eventfilter(name(Newchannel),method(regex))", "X[XYZ]X", NEWCHANNEL, True),
    ("eventfilter(name(Newchannel),method(regex))", "X[abc]X", NEWCHANNEL, False),
    ("eventfilter(action(exclude),name(Newchannel),method(regex))", "X[XYZ]X", NEWCHANNEL, False),
    ("eventfilter(action(exclude),name(Newchannel),method(regex))", "X[abc]X", NEWCHANNEL, True),
    (
        "eventfilter(action(include),name(VarSet),header(Channel),method(starts_with))",
        "AB",
        VARSET,
        True,
    ),
    (
        "eventfilter(action(include),name(VarSet),header(Channel),method(ends_with))",
        "BC",
        VARSET,
        True,
    ),
    (
        "eventfilter(action(include),name(VarSet),header(Channel),method(exact))",
        "ABC",
        VARSET,
        True,
    ),
    (
        "eventfilter(action(include),name(VarSet),header(Channel),method(exact))",
        "XXX",
        VARSET,
        False,
    ),
    ("eventfilter(name(VarSet),header(Channel),method(exact))", "!ZZZ", VARSET, True),
    (
        "eventfilter(action(exclude),name(VarSet),header(Channel),method(exact))",
        "ZZZ",
        VARSET,
        True,
    ),
    (
        "eventfilter(action(include),name(VarSet),header(Someheader),method(exact))",
        "!XXX",
        VARSET,
        True,
    ),
]


@pytest.mark.parametrize(("criteria", "pattern", "ev", "expected"), SINGLE_FILTER_CASES)
def test_single_filter_cases(
    criteria: str, pattern: str, ev: tuple[str, Message], expected: bool
) -> None:
    rule = parse_rule(criteria, pattern)
    assert EventFilter.of([rule]).matches(*ev) is expected


def test_bang_is_exclude_unless_action_given() -> None:
    assert parse_rule("eventfilter(name(VarSet),header(Channel),method(exact))", "!ZZZ").exclude
    rule = parse_rule("eventfilter(action(include),name(X),method(exact))", "!XXX")
    assert not rule.exclude
    assert rule.pattern == "XXX"


@pytest.mark.parametrize(
    ("criteria", "pattern"),
    [
        ("eventfilter(action(include)", ""),
        ("eventfilter(action(inlude)", ""),
        ("eventfilter(nnnn(yyy)", "XXX"),
        ("eventfilter(eader(VarSet)", "XXX"),
        ("eventfilter(ethod(contains)", "XXX"),
        ("eventfilter(nnnn(yyy),header(VarSet),method(contains)", "XXX"),
        ("eventfilter(name(yyy),heder(VarSet),method(contains)", "XXX"),
        ("eventfilter(name(yyy),header(VarSet),mehod(contains)", "XXX"),
        ("eventfilter(name(yyy),header(VarSet),method(coains)", "XXX"),
        ("eventfilter(method(yyy))", "XXX"),
        ("eventfilter", ""),
        ("eventfilter", "!"),
        ("eventfilter()", "XXX"),
        ("eventfilter(name(A),name(B))", ""),
        ("eventfilter(name(A)", ""),
        ("eventfilter(name(A),method(none))", "pattern"),
        ("eventfilter(name(A),method(exact))", ""),
        ("eventfilters", "XXX"),
        ("eventfilter(name(A)x", ""),
        ("eventfilter(name( ))", ""),
        ("eventfilter(action(maybe),name(A))", ""),
        ("eventfilter(action(include))", ""),
    ],
)
def test_malformed_filters(criteria: str, pattern: str) -> None:
    with pytest.raises(ValueError, match=r"."):
        parse_rule(criteria, pattern)


@pytest.mark.parametrize(
    ("criteria", "pattern"),
    [
        ("eventfilter", "XX[X"),
        ("eventfilter(method(regex))", "XX[X"),
        ("eventfilter", "[[:nope:]]"),
    ],
)
def test_regex_that_does_not_compile(criteria: str, pattern: str) -> None:
    with pytest.raises(PatternError):
        parse_rule(criteria, pattern)


# Asterisk's precedence case: includes and excludes together.
MIXED = [
    "eventfilter(name(VarSet),method(none)) =",
    "eventfilter(name(Newchannel),method(regex)) = X[XYZ]X",
    "eventfilter(name(Newchannel),method(regex)) = X[abc]X",
    "eventfilter(name(Newchannel),header(Someheader),method(regex)) = ZZZ",
    "eventfilter(action(exclude),name(Newchannel),method(regex)) = X[a]X",
    "eventfilter(action(exclude),name(Newchannel),method(regex)) = X[Z]X",
    "eventfilter(action(exclude),name(VarSet),header(Channel),method(regex)) = YYY",
]


@pytest.mark.parametrize(
    ("name", "channel", "some", "expected"),
    [
        ("Newchannel", "XXX", "YYY", True),
        ("Newchannel", "XZX", "YYY", False),
        ("Newchannel", "XaX", "YYY", False),
        ("Newchannel", "XbX", "YYY", True),
        ("Newchannel", "XcX", "YYY", True),
        ("Newchannel", "YYY", "YYY", False),
        ("Newchannel", "YYY", "ZZZ", True),
        ("VarSet", "XXX", "YYY", True),
        ("VarSet", "YYY", "YYY", False),
    ],
)
def test_includes_then_excludes(name: str, channel: str, some: str, expected: bool) -> None:
    ev = event(("Event", name), ("Channel", channel), ("Someheader", some))
    assert passes(MIXED, ev) is expected


def test_no_filters_pass_everything() -> None:
    assert EventFilter().matches(*NEWCHANNEL)
    assert not EventFilter()


def test_only_excludes_drop_matches() -> None:
    assert not passes(["!Channel: XXX"], NEWCHANNEL)
    assert passes(["!Channel: XXX"], VARSET)


def test_legacy_regex_spans_lines_like_posix() -> None:
    ev = event(("Event", "Newchannel"), ("Channel", "PJSIP/100-1"))
    assert passes(["Event: Newchannel.*Channel: PJSIP/"], ev)
    assert not passes(["Event: Hangup.*Channel: PJSIP/"], ev)


def test_legacy_whitespace_matters() -> None:
    # manager.conf.sample: "Event:Newchannel" does not match "Event: Newchannel".
    assert not passes(["Event:Newchannel"], NEWCHANNEL)


def test_header_name_is_exact_and_skips_empty_values() -> None:
    ev = event(("Event", "X"), ("ChannelState", "6"), ("channel", "A"), ("Channel", ""))
    assert not passes(["eventfilter(header(Channel),method(contains)) = 6"], ev)
    assert not passes(["eventfilter(header(Channel),method(contains)) = A"], ev)
    ev2 = event(("Event", "X"), ("Channel", ""), ("Channel", "B"))
    assert passes(["eventfilter(header(Channel:),method(exact)) = B"], ev2)


def test_header_only_filter_needs_the_header() -> None:
    rule = "eventfilter(header(Queue),method(regex)) = ."
    assert passes([rule], event(("Event", "QueueMember"), ("Queue", "q1")))
    assert not passes([rule], NEWCHANNEL)


def test_rule_applies_checks_the_name_itself() -> None:
    rule = parse_spec("eventfilter(name(Hangup)) =")
    assert not rule.applies(*NEWCHANNEL)
    assert parse_spec("eventfilter(name(Newchannel)) =").applies(*NEWCHANNEL)


def test_event_name_is_case_sensitive() -> None:
    assert not passes(["eventfilter(name(newchannel)) ="], NEWCHANNEL)
    assert passes(["eventfilter(name(Newchannel)) ="], NEWCHANNEL)


def test_options_any_order_and_spaces() -> None:
    rule = parse_spec("eventfilter( method(starts_with) , header(Channel),action(exclude) ) = X")
    assert rule.exclude
    assert rule.method == "starts_with"
    assert rule.header == "Channel"


def test_posix_classes_translate() -> None:
    assert passes(["Channel: [[:upper:]]{3}"], NEWCHANNEL)
    assert not passes(["Channel: [[:digit:]]{3}"], NEWCHANNEL)


def test_pattern_length_is_capped() -> None:
    with pytest.raises(ValueError, match="longer than"):
        parse_spec("a" * (MAX_PATTERN_LENGTH + 1))
    assert parse_spec("a" * MAX_PATTERN_LENGTH).pattern == "a" * MAX_PATTERN_LENGTH


def test_with_rule_adds_to_a_copy() -> None:
    base = EventFilter.from_specs(["Event: Newchannel"])
    added = base.with_rule(parse_spec("!Channel: XXX"))
    assert base.matches(*NEWCHANNEL)
    assert not added.matches(*NEWCHANNEL)
    assert len(added.rules) == 2


def test_fixture_filter_action_keeps_only_newchannel() -> None:
    # ami/filter_action: Filter "Event: Newchannel" then only Newchannel passes.
    rule = parse_filter_action(None, "Event: Newchannel")
    filt = EventFilter.of([rule])
    assert filt.matches(*NEWCHANNEL)
    hangup = event(("Event", "Hangup"), ("Privilege", "call,all"), ("Channel", "Local/100"))
    assert not filt.matches(*hangup)
    response = event(("Event", "OriginateResponse"), ("Response", "Success"))
    assert not filt.matches(*response)


def test_filter_action_with_match_criteria() -> None:
    rule = parse_filter_action("action(exclude),name(Newexten)", "")
    assert rule.exclude
    assert rule.event_name == "Newexten"


@pytest.mark.parametrize(
    ("criteria", "pattern", "message"),
    [
        (None, "", FORMAT_ERROR),
        ("name(A),method(bogus)", "x", FORMAT_ERROR),
        (None, "XX[X", COMPILE_ERROR),
        ("method(regex)", "(", COMPILE_ERROR),
    ],
)
def test_filter_action_errors_carry_asterisk_messages(
    criteria: str | None, pattern: str, message: str
) -> None:
    with pytest.raises(AmiLevelError) as info:
        parse_filter_action(criteria, pattern)
    assert info.value.message == message


literal = st.text(st.characters(min_codepoint=32, max_codepoint=126), min_size=1, max_size=20)


@given(value=literal, prefix=st.text(alphabet="ab", max_size=3))
def test_string_methods_agree_with_python(value: str, prefix: str) -> None:
    assume(not value.startswith(("!", " ")))
    ev = event(("Event", "E"), ("H", prefix + value))
    for method, expected in (
        ("ends_with", True),
        ("contains", True),
        ("exact", prefix == ""),
        ("starts_with", (prefix + value).startswith(value)),
    ):
        rule = parse_rule(f"eventfilter(header(H),method({method}))", value)
        assert EventFilter.of([rule]).matches(*ev) is expected, method


@given(value=literal)
def test_regex_of_escaped_literal_matches_itself(value: str) -> None:
    assume(not value.startswith(("!", " ")))
    rule = parse_rule("eventfilter(header(H),method(regex))", re.escape(value))
    assert EventFilter.of([rule]).matches(*event(("Event", "E"), ("H", value)))
    assert not EventFilter.of([rule]).matches(*event(("Event", "E"), ("H", "")))
