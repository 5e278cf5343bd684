"""The correlator's Originate handling: sync emulation and async result owners."""

from __future__ import annotations

import pytest

from gateway.ami.correlator import (
    MAX_ASYNC_OWNERS,
    Broadcast,
    Completed,
    Correlator,
    Outcome,
    make_action_id,
)
from gateway.ami.message import Message
from tests.support.fixturedata import ami_recv
from tests.support.replay import BOOT, NODE, parsed, replay


def sync_response_bytes(client_id: str) -> bytes:
    """What Asterisk answered to a real sync Originate (fixture originate_sync)."""
    (answer,) = replay("originate_sync").completed("orig-sync-1")
    return answer.to_wire().replace(b"orig-sync-1", client_id.encode())


def test_sync_originate_is_emulated_through_its_originate_response() -> None:
    run = replay("originate_async_events", owner="sess-a", sync=frozenset({"orig-async-1"}))
    (answer,) = run.completed("orig-async-1")
    assert answer.to_wire() == sync_response_bytes("orig-async-1")
    done = next(o for o in run.outcomes if isinstance(o, Completed) and o.messages == (answer,))
    before = [
        o.message for o in run.outcomes[: run.outcomes.index(done)] if isinstance(o, Broadcast)
    ]
    result_at = next(i for i, m in enumerate(run.original) if m.name == "OriginateResponse")
    assert before == [m for m in run.original[:result_at] if m.kind == "event"]
    assert not [b for b in run.broadcasts if b.message.name == "OriginateResponse"]
    assert all(b.owner is None for b in run.broadcasts)
    assert len(run.broadcasts) == len(run.original) - 3  # login and originate answers, result


def test_sync_originate_failure() -> None:
    data = ami_recv("originate_async_events").replace(
        b"ActionID: orig-async-1\r\nResponse: Success\r\n",
        b"ActionID: orig-async-1\r\nResponse: Failure\r\n",
    )
    run = replay("originate_async_events", sync=frozenset({"orig-async-1"}), data=data)
    (answer,) = run.completed("orig-async-1")
    assert answer.to_wire() == (
        b"Response: Error\r\nActionID: orig-async-1\r\nMessage: Originate failed\r\n\r\n"
    )


def test_sync_originate_refused_completes_at_once() -> None:
    run = replay("permission_denied_reader", owner="s", sync=frozenset({"pd-orig"}))
    (answer,) = run.completed("pd-orig")
    assert answer.get("Message") == "Permission denied"


def test_async_originate_result_names_its_owner_for_everyone() -> None:
    run = replay("originate_async_events", owner="sess-a")
    (answer,) = run.completed("orig-async-1")
    assert answer.get("Message") == "Originate successfully queued"
    owned = [b for b in run.broadcasts if b.owner is not None]
    assert [(b.message.name, b.owner, b.private) for b in owned] == [
        ("OriginateResponse", "sess-a", False)
    ]
    result = owned[0].message
    original = next(m for m in run.original if m.name == "OriginateResponse")
    assert result == original
    assert result.raw == original.raw


def test_async_originate_without_owner_is_for_everyone() -> None:
    run = replay("originate_async_events")
    results = [b for b in run.broadcasts if b.message.name == "OriginateResponse"]
    assert [(b.message.get("ActionID"), b.owner) for b in results] == [("orig-async-1", None)]


@pytest.mark.parametrize("other", [Correlator("n2", "beef"), Correlator(NODE, "reboot")])
def test_another_instances_originate_response(other: Correlator) -> None:
    wire = next(
        m for m in parsed(ami_recv("originate_async_events")) if m.name == "OriginateResponse"
    )
    gateway_form = make_action_id(NODE, BOOT, 2, "orig-async-1")
    foreign = parsed(
        wire.raw.replace(b"orig-async-1", gateway_form.encode()) + b"\r\n", banner=False
    )
    assert other.feed(foreign[0]) == [Broadcast(wire)]
    assert other.feed(Message.of(("Response", "Success"), ("ActionID", gateway_form))) == []


def test_owner_map_is_bounded() -> None:
    correlator = Correlator(NODE, BOOT)
    ids = [
        correlator.prepare([("Action", "Originate"), ("ActionID", str(i))], owner=f"s{i}")[0]
        for i in range(MAX_ASYNC_OWNERS + 1)
    ]
    correlator.fail_all("gone")

    def result(gateway_id: str, client_id: str) -> list[Outcome]:
        action_id = f"{gateway_id}|{client_id}"
        return correlator.feed(Message.of(("Event", "OriginateResponse"), ("ActionID", action_id)))

    assert result(ids[0], "0") == [
        Broadcast(Message.of(("Event", "OriginateResponse"), ("ActionID", "0")))
    ]
    (last,) = result(ids[-1], str(MAX_ASYNC_OWNERS))
    assert isinstance(last, Broadcast)
    assert last.owner == f"s{MAX_ASYNC_OWNERS}"
    (again,) = result(ids[-1], str(MAX_ASYNC_OWNERS))  # an owner serves one result
    assert isinstance(again, Broadcast)
    assert again.owner is None


def test_userevent_echo_is_broadcast_after_completion() -> None:
    run = replay("userevent_action")
    assert run.completed("ue-1")[0].get("Message") == "Event Sent"
    echo = [b.message for b in run.broadcasts if b.message.name == "UserEvent"]
    assert [m.get("ActionID") for m in echo] == ["ue-1"]
    assert echo[0].get("Header2") == "value with: colon"


def test_refused_originate_leaves_no_owner_behind() -> None:
    run = replay("permission_denied_reader", owner="sess-c")
    assert run.completed("pd-orig")[0].get("Message") == "Permission denied"
    action_id = f"{run.gateway_ids['pd-orig']}|pd-orig"
    late = Message.of(("Event", "OriginateResponse"), ("ActionID", action_id))
    assert run.correlator.feed(late) == [Broadcast(late.replace("ActionID", "pd-orig"), None)]


def test_a_long_action_ids_async_result_carries_it_whole() -> None:
    client_id = "o" * 300
    correlator = Correlator(NODE, BOOT)
    gateway_id, wire = correlator.prepare(
        [("Action", "Originate"), ("ActionID", client_id), ("Async", "true")], owner="s1"
    )
    (wire_id,) = [value for name, value in wire if name == "ActionID"]
    assert len(wire_id) <= 137  # whole in every answer Asterisk formats (test_correlator)
    queued = f"Response: Success\r\nActionID: {wire_id}\r\nMessage: Originate successfully queued"
    result = f"Event: OriginateResponse\r\nActionID: {wire_id}\r\nResponse: Success"
    data = f"{queued}\r\n\r\n{result}\r\n\r\n".encode()
    outcomes = [o for m in parsed(data, banner=False) for o in correlator.feed(m)]
    assert [type(o) for o in outcomes] == [Completed, Broadcast]
    done, broadcast = outcomes
    assert isinstance(done, Completed)
    assert done.gateway_id == gateway_id
    assert done.messages[0].get("ActionID") == client_id
    assert isinstance(broadcast, Broadcast)
    assert broadcast.owner == "s1"
    assert broadcast.message.get("ActionID") == client_id
