"""Replays an AMI capture through a Correlator, ActionIDs in gateway form."""

from __future__ import annotations

from dataclasses import dataclass, field

from gateway.ami.codec import Parser
from gateway.ami.correlator import Broadcast, Completed, Correlator, Outcome
from gateway.ami.message import Message
from gateway.errors import RequestTooLarge
from tests.support.fixturedata import ami_recv, ami_sent

NODE, BOOT = "n1", "b00t"


def parsed(data: bytes, *, banner: bool = True, actions: bool = False) -> list[Message]:
    items = Parser(expect_banner=banner, accept_actions=actions).feed(data)
    return [item for item in items if isinstance(item, Message)]


@dataclass
class Replay:
    """A capture replayed through a correlator, as the client would see it."""

    correlator: Correlator
    gateway_ids: dict[str, str] = field(default_factory=dict)  # client ActionID -> gateway id
    outcomes: list[Outcome] = field(default_factory=list)
    original: list[Message] = field(default_factory=list)

    def completed(self, client_id: str) -> tuple[Message, ...]:
        found = [
            o.messages
            for o in self.outcomes
            if isinstance(o, Completed) and o.gateway_id == self.gateway_ids[client_id]
        ]
        assert len(found) == 1, found
        return found[0]

    @property
    def broadcasts(self) -> list[Broadcast]:
        return [o for o in self.outcomes if isinstance(o, Broadcast)]


def replay(
    case: str,
    *,
    owner: str | None = None,
    sync: frozenset[str] = frozenset(),
    data: bytes | None = None,
) -> Replay:
    """Prepare every action of ``<case>.sent``, then feed ``<case>.recv`` (or
    ``data``) with each client ActionID swapped for the gateway one."""
    run = Replay(Correlator(NODE, BOOT))
    recv = ami_recv(case) if data is None else data
    run.original = parsed(recv)
    for action in parsed(ami_sent(case), banner=False, actions=True):
        client_id = action.get("ActionID") or ""
        try:
            gateway_id, wire = run.correlator.prepare(
                action.fields, owner=owner, sync_originate=client_id in sync
            )
        except RequestTooLarge:
            continue
        run.gateway_ids[client_id] = gateway_id
        wire_id = Message(wire).get("ActionID") or ""
        old, new = f"\r\nActionID: {client_id}\r\n", f"\r\nActionID: {wire_id}\r\n"
        recv = recv.replace(old.encode(), new.encode())
    for msg in parsed(recv):
        run.outcomes += run.correlator.feed(msg)
    return run


def all_messages(outcomes: list[Outcome]) -> list[Message]:
    out: list[Message] = []
    for outcome in outcomes:
        out += outcome.messages if isinstance(outcome, Completed) else [outcome.message]
    return out
