"""``/json``: the gateway's own format (design.md, Contracts).

``{"response": {...}, "events": [{...}, ...]}``: ``response`` is the first
message, ``events`` every later one in order. A login reply adds
``"session": "<id>"`` after ``events``. Output is compact UTF-8.

Each message is an object whose keys keep Asterisk's case and the order in
which they first appear. Decisions beyond the contract:

* a key that repeats with exactly the same spelling becomes an array of all its
  values in order; ``Foo`` and ``foo`` stay two keys, so nothing is lost;
* ``Output``, ``Variable`` and every key starting with ``ChanVariable`` are
  arrays even with one value; this test ignores case;
* lines without a colon (the text of an old ``Response: Follows``) are added,
  in order, to the ``Output`` array, so a client reads command output the
  same way from every Asterisk version;
* values are never trimmed; invalid UTF-8 becomes U+FFFD;
* no message at all gives ``{"response": null, "events": []}``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from gateway.ami.message import OPAQUE, Message, text_for_json
from gateway.render.base import RenderOptions

OPAQUE_KEY: Final = "Output"
"""Where lines without a colon go."""

_ALWAYS_ARRAYS: Final = frozenset({"output", "variable"})
_ALWAYS_ARRAY_PREFIX: Final = "chanvariable"

JsonObject = dict[str, str | list[str]]


def _dumps(value: object) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def always_array(key: str) -> bool:
    lowered = key.lower()
    return lowered in _ALWAYS_ARRAYS or lowered.startswith(_ALWAYS_ARRAY_PREFIX)


def message_object(msg: Message) -> JsonObject:
    """The message as an ordered JSON object, no value dropped."""
    out: JsonObject = {}
    for name, value in msg.fields:
        key = OPAQUE_KEY if name == OPAQUE else text_for_json(name)
        text = text_for_json(value)
        existing = out.get(key)
        if isinstance(existing, list):
            existing.append(text)
        elif existing is not None:
            out[key] = [existing, text]
        else:
            out[key] = [text] if always_array(key) else text
    return out


@dataclass(frozen=True, slots=True)
class JsonFormat:
    name: str = "json"
    content_type: str = "application/json; charset=utf-8"

    def cache_key(self, opts: RenderOptions) -> str:
        return "json"

    def fragment(self, msg: Message, opts: RenderOptions) -> bytes:
        return _dumps(message_object(msg))

    def document(self, fragments: Sequence[bytes], opts: RenderOptions) -> bytes:
        response = fragments[0] if fragments else b"null"
        events = b",".join(fragments[1:])
        session = b"" if opts.session is None else b',"session":' + _dumps(opts.session)
        return b'{"response":' + response + b',"events":[' + events + b"]" + session + b"}"
