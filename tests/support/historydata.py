"""Captured ``Cdr`` events, and calls made from them for the history tests."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache

from gateway.ami.message import Field, Message
from tests.support.fixturedata import ami_cases, ami_recv


@cache
def captured_cdrs() -> tuple[tuple[Field, ...], ...]:
    """Every ``Event: Cdr`` in the AMI captures, header for header."""
    found = []
    for case in ami_cases():
        text = ami_recv(case).decode("utf-8").replace("\r\n", "\n")
        for block in text.split("\n\n"):
            if block.startswith("Event: Cdr\n"):
                lines = block.split("\n")
                found.append(tuple(_field(line) for line in lines))
    return tuple(found)


def _field(line: str) -> Field:
    name, _, value = line.partition(":")
    return name, value[1:] if value.startswith(" ") else value


def cdr_fields(changes: Mapping[str, str], base: int = 0) -> tuple[Field, ...]:
    """A captured Cdr with some headers changed (``Source``, ``StartTime``…)."""
    fields = captured_cdrs()[base]
    return tuple((name, changes.get(name, value)) for name, value in fields)


def cdr_message(changes: Mapping[str, str], base: int = 0) -> Message:
    return Message(cdr_fields(changes, base))


def call(src: str, dst: str, start: str, disposition: str = "ANSWERED") -> tuple[Field, ...]:
    """A captured Cdr turned into a call from ``src`` to ``dst`` at ``start``."""
    answered = disposition == "ANSWERED"
    return cdr_fields(
        {
            "Source": src,
            "Destination": dst,
            "CallerID": f'"" <{src}>',
            "StartTime": start,
            "AnswerTime": start if answered else "",
            "EndTime": start,
            "Disposition": disposition,
            "BillableSeconds": "1" if answered else "0",
            "UniqueID": f"{src}-{dst}-{start}",
        }
    )


CDR_ROWS = (
    ("2026-11-20 10:00:00", "+79120000000", "100", "ANSWERED", 10),
    ("2026-11-21 11:00:00", "100", "89120000000", "NO ANSWER", 0),
    ("2026-11-22 12:00:00", "9120000000", "200", "BUSY", 0),
    ("2026-11-23 13:00:00", "300", "400", "ANSWERED", 5),
    ("2026-11-24 14:00:00", "89120000000", "300", "ANSWERED", 7),
)
"""Rows for a PBX's own cdr table: (start, src, dst, disposition, billsec)."""
