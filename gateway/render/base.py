"""What every output format offers: per-message fragments and a cheap document.

An event is stored once and may go to many sessions, so the HTTP layer renders
each message at most once per format and per ``cache_key`` (``fragment``), keeps
the bytes, and builds each reply body from them (``document``: joining plus the
format's framing, nothing more).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Protocol

from gateway.ami.message import Message

DEFAULT_AJAXDEST: Final = "unknown"
DEFAULT_AJAXOBJTYPE: Final = "generic"


@dataclass(frozen=True, slots=True)
class RenderOptions:
    """Per-request choices that change the rendered bytes."""

    ajaxdest: str = DEFAULT_AJAXDEST
    """mxml only: ``<response ... id='...'>``; empty means the default."""
    ajaxobjtype: str = DEFAULT_AJAXOBJTYPE
    """mxml only: the element name; empty means the default."""
    session: str | None = None
    """json only: a login reply adds ``"session": id`` at the top level."""


class Format(Protocol):
    """One instance per output format; stateless.

    ``name`` and ``content_type`` are read-only properties so that frozen
    dataclasses satisfy the protocol; plain attributes satisfy it as well.
    """

    @property
    def name(self) -> str:
        """``rawman``, ``mxml``, ``manager``, ``amanager`` or ``json``."""
        ...

    @property
    def content_type(self) -> str:
        """The Content-Type header value, charset included."""
        ...

    def cache_key(self, opts: RenderOptions) -> str:
        """Fragments rendered with equal keys are identical bytes.

        Keys differ between formats whose fragments differ, so a cache may be
        keyed by this value alone.
        """
        ...

    def fragment(self, msg: Message, opts: RenderOptions) -> bytes:
        """One message's bytes."""
        ...

    def document(self, fragments: Sequence[bytes], opts: RenderOptions) -> bytes:
        """The whole body from fragments made with the same ``opts``."""
        ...
