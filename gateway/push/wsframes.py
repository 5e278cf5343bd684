"""A WebSocket client's text frame to an action's fields, sans-I/O.

A frame is one JSON object: its keys are the action's header names, in
order; a value is a string, a number (written as JSON wrote it: ``5``,
``2.5``), or an array of those for a header that repeats (``"Variable":
["A=1", "B=2"]``).  A key given twice counts twice, in order.  Anything else
(not JSON, not an object, ``true``, ``null``, a nested object, ``NaN``) is a
``BadFrame`` whose message the client is told; the fields themselves are
then checked exactly as an AJAM request's (``gateway.ami.codec.validate_action``,
in the dispatcher).
"""

from __future__ import annotations

import json
from typing import Final

from gateway.ami.message import Field

Value = str | int | float


class BadFrame(Exception):
    """A frame that is no action object; ``message`` says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class _Pairs(list[tuple[str, object]]):
    """A JSON object's members, in order, duplicates kept."""


NOT_OBJECT: Final = "A frame must be a JSON object: an action and its fields"


def _constant(name: str) -> object:
    raise BadFrame(f"Invalid JSON: {name} is not a number")


def parse_action(text: str) -> list[Field]:
    try:
        value = json.loads(text, object_pairs_hook=_Pairs, parse_constant=_constant)
    except (ValueError, RecursionError) as error:
        raise BadFrame(f"Invalid JSON: {error}") from None
    if not isinstance(value, _Pairs):
        raise BadFrame(NOT_OBJECT)
    fields: list[Field] = []
    for key, member in value:
        items = member if isinstance(member, list) and not isinstance(member, _Pairs) else [member]
        fields.extend((key, _text(key, item)) for item in items)
    return fields


def _text(key: str, value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return json.dumps(value)
    raise BadFrame(f"{key}: values must be strings, numbers or arrays of them")
