"""One CDR: parsed from an AMI ``Cdr`` event, and written out as JSON.

Times are kept as UTC epoch seconds (cheap to index and compare); the PBX
writes them as zone-less local times, so ``pbx_timezone`` places them.
"""

from __future__ import annotations

from dataclasses import astuple, dataclass, field, fields
from datetime import datetime
from typing import Final
from zoneinfo import ZoneInfo

from gateway.ami.message import Message

_EVENT_HEADERS: Final = {
    "clid": "CallerID",
    "src": "Source",
    "dst": "Destination",
    "dcontext": "DestinationContext",
    "channel": "Channel",
    "dstchannel": "DestinationChannel",
    "lastapp": "LastApplication",
    "lastdata": "LastData",
    "disposition": "Disposition",
    "amaflags": "AMAFlags",
    "accountcode": "AccountCode",
    "uniqueid": "UniqueID",
    "linkedid": "LinkedID",
    "userfield": "UserField",
}
"""cdr_manager's header for each CDR field (the captures have no LinkedID)."""
TEXT_FIELDS: Final = tuple(_EVENT_HEADERS)
"""The text columns, in the table's order."""
AMA_FLAGS: Final = {"0": "", "1": "OMIT", "2": "BILLING", "3": "DOCUMENTATION"}
"""cdr_mysql stores the flag's number; the event and the JSON use its name."""


@dataclass(frozen=True, slots=True)
class CdrRecord:
    start: int
    answer: int | None
    end: int | None
    duration: int
    billsec: int
    clid: str = ""
    src: str = ""
    dst: str = ""
    dcontext: str = ""
    channel: str = ""
    dstchannel: str = ""
    lastapp: str = ""
    lastdata: str = ""
    disposition: str = ""
    amaflags: str = ""
    accountcode: str = ""
    uniqueid: str = ""
    linkedid: str = ""
    userfield: str = ""
    extra: tuple[tuple[str, str | None], ...] = field(default=())
    """``[history] extra_columns`` as read from the PBX's table: (name, text or None)."""

    def row(self) -> tuple[object, ...]:
        """The standard columns, as the SQLite store keeps them."""
        return astuple(self)[: len(COLUMNS)]


COLUMNS: Final = tuple(f.name for f in fields(CdrRecord) if f.name != "extra")
"""The standard columns, in the answer's order."""


def local_epoch(text: str, zone: ZoneInfo) -> int | None:
    """``2026-11-27 09:08:30`` in the PBX's zone to epoch seconds; '' is None."""
    text = text.strip()
    if not text:
        return None
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return int(moment.timestamp())


def _seconds(text: str | None) -> int:
    return int(float(text)) if text and text.strip() else 0


def from_event(message: Message, zone: ZoneInfo) -> CdrRecord:
    """A ``Cdr`` event to a record; ``ValueError`` if its times are unreadable."""
    start = local_epoch(message.get("StartTime") or "", zone)
    end = local_epoch(message.get("EndTime") or "", zone)
    if start is None:
        if end is None:
            raise ValueError("Cdr event without StartTime or EndTime")
        start = end
    texts = {name: message.get(header) or "" for name, header in _EVENT_HEADERS.items()}
    return CdrRecord(
        start=start,
        answer=local_epoch(message.get("AnswerTime") or "", zone),
        end=end,
        duration=_seconds(message.get("Duration")),
        billsec=_seconds(message.get("BillableSeconds")),
        **texts,
        extra=(),  # the event has the standard fields only
    )


def iso(epoch: int | None, zone: ZoneInfo) -> str | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, zone).isoformat()


def to_json(record: CdrRecord, zone: ZoneInfo) -> dict[str, object]:
    """The stable JSON form of a call (docs/history.md, "JSON schema"), its extra
    columns after the standard ones."""
    out: dict[str, object] = {
        "start": iso(record.start, zone),
        "answer": iso(record.answer, zone),
        "end": iso(record.end, zone),
        "duration": record.duration,
        "billsec": record.billsec,
    }
    for name in TEXT_FIELDS:
        out[name] = getattr(record, name)
    out.update(record.extra)
    return out
