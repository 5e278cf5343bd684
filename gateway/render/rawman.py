"""``/rawman``: the AMI text itself, ``Key: Value`` lines and a blank line."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from gateway.ami.message import Message
from gateway.render.base import RenderOptions


@dataclass(frozen=True, slots=True)
class RawmanFormat:
    name: str = "rawman"
    content_type: str = "text/plain; charset=utf-8"

    def cache_key(self, opts: RenderOptions) -> str:
        return "rawman"

    def fragment(self, msg: Message, opts: RenderOptions) -> bytes:
        """The bytes as Asterisk sent them when known, else the built lines.

        A message with no lines gives nothing, not a stray blank line.
        """
        if not msg.fields and not msg.raw:
            return b""
        return msg.to_wire()

    def document(self, fragments: Sequence[bytes], opts: RenderOptions) -> bytes:
        return b"".join(fragments)
