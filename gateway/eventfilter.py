"""manager.conf event filters: the legacy regex form and the advanced form.

Legacy: ``eventfilter = <regex>`` searched over the whole event text; a
leading ``!`` makes it an exclude filter.  Advanced (Asterisk 20.9+):
``eventfilter(action(include|exclude),name(<event>),header(<name>),
method(regex|exact|starts_with|ends_with|contains|none)) = <pattern>``, each
option at most once and in any order.  ``name`` compares the event name
exactly; ``header`` limits the match to the values of that header; ``method``
defaults to ``none`` (no pattern).  A leading ``!`` on the pattern still means
exclude unless ``action()`` is given.

Rule of evaluation (manager.conf): no filters, all pass; only includes, an
event passes when any include matches; only excludes, it passes unless any
exclude matches; both, it must match an include and then no exclude.

Regular expressions are POSIX extended ones, as Asterisk's regcomp reads
them, matched in linear time by RE2 (``gateway.posixre``, which lists the few
patterns RE2 cannot run: those are refused as a compile error).  A filter
runs on every event of the instance, so no pattern may cost more than a
pass over the text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final, Literal

from gateway.ami.message import Message
from gateway.astvalues import skip_blanks
from gateway.errors import AmiLevelError
from gateway.posixre import PatternError, compile_posix

MAX_PATTERN_LENGTH: Final = 512
"""Longest pattern accepted: bounds the size (and compile cost) of each regex."""

FORMAT_ERROR: Final = "Filter was formatted incorrectly.  Check the syntax of the filter given."
COMPILE_ERROR: Final = "Filter did not compile.  Check the syntax of the filter given."
"""Asterisk's own answers to a bad ``Action: Filter``."""

Method = Literal["regex", "exact", "starts_with", "ends_with", "contains", "none"]
METHODS: Final[tuple[Method, ...]] = (
    "regex",
    "exact",
    "starts_with",
    "ends_with",
    "contains",
    "none",
)

_OPTION_RE: Final = re.compile(r"^(action|name|header|method)\(([^()]*)\)$")


@dataclass(frozen=True, slots=True)
class FilterRule:
    """One compiled eventfilter line."""

    exclude: bool
    method: Method
    pattern: str
    event_name: str | None = None
    header: str | None = None
    source: str = field(default="", compare=False)
    _test: Callable[[str], bool] = field(default=bool, compare=False, repr=False)

    def applies(self, event_text: str, message: Message) -> bool:
        """Whether this rule matches the event (include or exclude alike)."""
        if self.event_name is not None and self.event_name != _event_name(message):
            return False
        if self.header is None:
            return self._test(event_text)
        return any(self._test(value) for value in _header_values(message, self.header))


def _event_name(message: Message) -> str:
    value = message.get("Event")
    return "" if value is None else value


def _header_values(message: Message, header: str) -> Iterable[str]:
    # Asterisk compares the header name case-sensitively, skips the value's
    # leading blanks (ast_skip_blanks) and empty values.
    for key, value in message.fields:
        if key == header:
            stripped = skip_blanks(value)
            if stripped:
                yield stripped


def parse_rule(criteria: str, pattern: str) -> FilterRule:
    """One filter from manager.conf's key (``eventfilter`` or
    ``eventfilter(...)``) and value.

    Raises ``PatternError`` for a regex that does not compile and
    ``ValueError`` for any other malformed filter, as Asterisk tells the two
    apart (``PatternError`` is a ``ValueError``: catch it first).
    """
    source = f"{criteria} = {pattern}" if pattern else criteria
    exclude = pattern.startswith("!")
    body = pattern[1:] if exclude else pattern
    head, paren, options = criteria.strip().partition("(")
    if head.strip() != "eventfilter":
        raise ValueError(f"{criteria!r}: a filter key must be 'eventfilter' or 'eventfilter(...)'")
    if not paren:
        if not body:
            raise ValueError(f"{source!r}: a legacy filter needs a pattern")
        return _build(source, exclude, "regex", body, None, None)
    return _parse_advanced(source, options, exclude, body)


def _parse_advanced(source: str, options: str, exclude: bool, body: str) -> FilterRule:
    text = options.strip()
    if not text.endswith(")"):
        raise ValueError(f"{source!r}: the options must end with ')'")
    found: dict[str, str] = {}
    for raw in text[:-1].split(","):
        match = _OPTION_RE.match(raw.strip())
        if match is None:
            raise ValueError(f"{source!r}: unknown or malformed option {raw.strip()!r}")
        key, value = match.group(1), match.group(2).strip()
        if key in found:
            raise ValueError(f"{source!r}: option {key!r} given twice")
        if not value:
            raise ValueError(f"{source!r}: option {key!r} is empty")
        found[key] = value
    if "action" in found:
        if found["action"] not in ("include", "exclude"):
            raise ValueError(f"{source!r}: action must be include or exclude")
        exclude = found["action"] == "exclude"
    method = found.get("method", "none")
    if method not in METHODS:
        raise ValueError(f"{source!r}: unknown method {method!r}")
    return _checked_advanced(source, found, exclude, method, body)


def _checked_advanced(
    source: str, found: Mapping[str, str], exclude: bool, method: Method, body: str
) -> FilterRule:
    if not body and method != "none":
        raise ValueError(f"{source!r}: method {method!r} needs a pattern")
    if body and method == "none":
        raise ValueError(f"{source!r}: method 'none' takes no pattern")
    name, header = found.get("name"), found.get("header")
    if name is None and header is None and method == "none":
        raise ValueError(f"{source!r}: give name(), header() or a pattern")
    if header is not None:
        header = header.removesuffix(":")
    return _build(source, exclude, method, body, name, header)


def _build(
    source: str, exclude: bool, method: Method, body: str, name: str | None, header: str | None
) -> FilterRule:
    if len(body) > MAX_PATTERN_LENGTH:
        raise ValueError(f"{source[:60]!r}...: pattern longer than {MAX_PATTERN_LENGTH} characters")
    test = _matcher(method, body)
    return FilterRule(exclude, method, body, name, header, source, test)


def _matcher(method: Method, body: str) -> Callable[[str], bool]:
    if method == "regex":
        return compile_posix(body).search
    if method == "exact":
        return lambda text: text == body
    if method == "starts_with":
        return lambda text: text.startswith(body)
    if method == "ends_with":
        return lambda text: text.endswith(body)
    if method == "contains":
        return lambda text: body in text
    return lambda text: True


def parse_spec(spec: str) -> FilterRule:
    """One config entry: a legacy regex, or ``eventfilter(...) = pattern``."""
    if spec.lstrip().startswith("eventfilter("):
        criteria, _, pattern = spec.partition("=")
        return parse_rule(criteria, pattern.strip())
    return parse_rule("eventfilter", spec)


def parse_filter_action(match_criteria: str | None, pattern: str) -> FilterRule:
    """The rule of ``Action: Filter`` (``MatchCriteria``, ``Filter``).

    Errors are ``AmiLevelError`` with Asterisk's own Message texts.
    """
    criteria = f"eventfilter({match_criteria})" if match_criteria else "eventfilter"
    try:
        return parse_rule(criteria, pattern)
    except PatternError as exc:
        raise AmiLevelError(COMPILE_ERROR) from exc
    except ValueError as exc:
        raise AmiLevelError(FORMAT_ERROR) from exc


@dataclass(frozen=True, slots=True)
class _RuleSet:
    """Rules indexed by event name, so most events skip most rules."""

    by_name: Mapping[str, tuple[FilterRule, ...]]
    any_name: tuple[FilterRule, ...]

    @classmethod
    def of(cls, rules: Iterable[FilterRule]) -> _RuleSet:
        by_name: dict[str, list[FilterRule]] = {}
        any_name: list[FilterRule] = []
        for rule in rules:
            if rule.event_name is None:
                any_name.append(rule)
            else:
                by_name.setdefault(rule.event_name, []).append(rule)
        frozen = {name: tuple(group) for name, group in by_name.items()}
        return cls(MappingProxyType(frozen), tuple(any_name))

    def __bool__(self) -> bool:
        return bool(self.by_name) or bool(self.any_name)

    def any_match(self, event_text: str, message: Message) -> bool:
        named = self.by_name.get(_event_name(message), ()) if self.by_name else ()
        return any(r.applies(event_text, message) for r in named) or any(
            r.applies(event_text, message) for r in self.any_name
        )


@dataclass(frozen=True, slots=True)
class EventFilter:
    """A user's (plus a session's) filters, compiled once."""

    rules: tuple[FilterRule, ...] = ()
    _includes: _RuleSet = field(default_factory=lambda: _RuleSet.of(()), repr=False)
    _excludes: _RuleSet = field(default_factory=lambda: _RuleSet.of(()), repr=False)

    @classmethod
    def of(cls, rules: Iterable[FilterRule]) -> EventFilter:
        ordered = tuple(rules)
        includes = _RuleSet.of(r for r in ordered if not r.exclude)
        excludes = _RuleSet.of(r for r in ordered if r.exclude)
        return cls(ordered, includes, excludes)

    @classmethod
    def from_specs(cls, specs: Iterable[str]) -> EventFilter:
        """Compile config entries; raises like ``parse_spec``."""
        return cls.of(parse_spec(spec) for spec in specs)

    def with_rule(self, rule: FilterRule) -> EventFilter:
        """A copy with one more rule: what ``Action: Filter`` adds to a session."""
        return EventFilter.of((*self.rules, rule))

    def __bool__(self) -> bool:
        return bool(self.rules)

    def matches(self, event_text: str, message: Message) -> bool:
        """manager.conf's rule; ``event_text`` is the whole event as sent."""
        if self._includes and not self._includes.any_match(event_text, message):
            return False
        return not (self._excludes and self._excludes.any_match(event_text, message))
