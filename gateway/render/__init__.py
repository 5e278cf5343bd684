"""Pure renderers: AMI messages to rawman text, mxml, manager HTML and JSON.

No I/O. Each format renders one message at a time (``Format.fragment``) so that
an event shared by many sessions is rendered once per format, and builds a
body from such fragments (``Format.document``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Final

from gateway.ami.message import Message
from gateway.render.base import Format, RenderOptions
from gateway.render.html import AMANAGER, MANAGER
from gateway.render.json import JsonFormat
from gateway.render.mxml import MxmlFormat
from gateway.render.rawman import RawmanFormat

__all__ = ["DEFAULT_OPTIONS", "FORMATS", "Format", "RenderOptions", "render"]

_ALL: Final[tuple[Format, ...]] = (
    RawmanFormat(),
    MxmlFormat(),
    MANAGER,
    AMANAGER,
    JsonFormat(),
)

FORMATS: Final[Mapping[str, Format]] = MappingProxyType({fmt.name: fmt for fmt in _ALL})
"""Every format by name: rawman, mxml, manager, amanager (the digest page), json."""

DEFAULT_OPTIONS: Final = RenderOptions()


def render(
    fmt: Format, messages: Sequence[Message], opts: RenderOptions = DEFAULT_OPTIONS
) -> bytes:
    """A whole body, rendering every message (no cache)."""
    return fmt.document([fmt.fragment(msg, opts) for msg in messages], opts)
