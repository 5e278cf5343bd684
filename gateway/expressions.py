"""Dialplan expressions whose function name is built by another expansion.

Asterisk substitutes ``${...}`` and ``$[...]`` (main/pbx_variables.c) by
first substituting what is nested inside, then reading the result: a
``${...}`` whose text has a ``(`` before any ``:`` calls that function, and
``$[...]`` hands its text to the expression parser, which calls
``NAME(args)`` too.  A name assembled from another expansion
(``${S${X}HELL(id)}``, ``$[S${X}HELL(id)]``) is therefore any function the
sender wants, whatever a check of the literal text says.  ``dynamic_name``
finds them; arguments built from expansions (``${CUT(${X},-,1)}``,
``$[${X} + 1]``) are ordinary dialplan and pass.

The ends of an expansion are found as Asterisk finds them: inside ``${``
only braces count (a nested ``${`` adds its own), inside ``$[`` only
brackets (a nested ``${``'s braces are plain text).
"""

from __future__ import annotations

from typing import Final

_AFTER_OK: Final = frozenset(" \t\r\n|&=<>!+-*/%?:),\"'")
"""What may follow a nested expansion inside $[...] without joining a name."""
_BEFORE_OK: Final = frozenset(" \t\r\n|&=<>!+-*/%?:(,\"'")


def _end(text: str, start: int) -> int:
    """Index just past the expansion opened at ``text[start:start + 2]``."""
    variable = text[start + 1] == "{"
    depth, i = 1, start + 2
    while depth and i < len(text):
        pair = text[i : i + 2]
        if variable:
            depth += (text[i] == "{") - (text[i] == "}")
        elif pair == "$[":
            depth += 1
            i += 1
        elif pair == "${":
            i += 1
        else:
            depth += (text[i] == "[") - (text[i] == "]")
        i += 1
    return i


def _opens(text: str, i: int) -> bool:
    return text[i : i + 2] in ("${", "$[")


def _variable_name_is_built(text: str, start: int, end: int) -> bool:
    """``${...}``: a nested expansion comes before the first ``(`` or ``:``."""
    for i in range(start + 2, end):
        if text[i] in "(:":
            return False
        if _opens(text, i):
            return True
    return False


def _expression_name_is_built(text: str, start: int, end: int) -> bool:
    """``$[...]``: a nested expansion touches a name, a call or another expansion."""
    inner_end = end - 1 if text[end - 1 : end] == "]" else end
    i = start + 2
    while i < inner_end:
        if not _opens(text, i):
            i += 1
            continue
        close = min(_end(text, i), inner_end)
        before = text[i - 1] if i > start + 2 else " "
        after = text[close] if close < inner_end else " "
        if before not in _BEFORE_OK or after not in _AFTER_OK:
            return True
        i = close
    return False


def dynamic_name(text: str) -> str | None:
    """The first expansion in ``text`` whose function name is built, or None."""
    for start in range(len(text) - 1):
        if not _opens(text, start):
            continue
        end = _end(text, start)
        built = (
            _variable_name_is_built(text, start, end)
            if text[start + 1] == "{"
            else _expression_name_is_built(text, start, end)
        )
        if built:
            return text[start:end]
    return None
