"""The queue's list items and events against the captured QueueStatus and QueueSummary."""

from __future__ import annotations

import time

from gateway.ami.message import Message
from gateway.simulator.channels import Channel
from gateway.simulator.queue import (
    HISTORY_AGE,
    QueueStats,
    agent_complete,
    agent_connect,
    caller_join,
    queue_member,
    queue_params,
    queue_summary,
)
from tests.support.amimask import masked, parse_stream
from tests.support.fixturedata import ami_recv


def _items(case: str) -> list[Message]:
    return [m for m in parse_stream(ami_recv(case)) if m.name.startswith("Queue")]


def test_queuestatus_items_are_the_captured_ones() -> None:
    stats = QueueStats.at(time.time())
    captured = _items("queuestatus")
    built = [Message(queue_params(stats, "qs-1")), Message(queue_member(stats, "qs-1"))]
    assert masked(built) == masked(captured[:2])


def test_queuesummary_item_is_the_captured_one() -> None:
    stats = QueueStats.at(time.time())
    assert Message(queue_summary(stats, "qsum-1")) == _items("queuesummary")[0]


def test_items_without_action_id_end_with_their_last_field() -> None:
    stats = QueueStats.at(1000.0)
    assert queue_params(stats, "")[-1] == ("Weight", "0")
    assert queue_member(stats, "")[-1] == ("Wrapuptime", "0")
    assert dict(queue_member(stats, ""))["LoginTime"] == str(1000 - HISTORY_AGE)


def test_a_call_through_the_queue_updates_the_statistics() -> None:
    stats = QueueStats.at(1000.0)
    stats.member_calls = 1
    assert dict(queue_member(stats, ""))["InCall"] == "1"
    assert dict(queue_summary(stats, ""))["Available"] == "0"
    stats.member_calls = 0
    stats.record_call(talk=15, now=2000)
    assert (stats.completed, stats.calls_taken, stats.talk_time, stats.last_call) == (
        2,
        2,
        10,
        2000,
    )
    assert QueueStats(login_time=0, last_call=0, completed=0).talk_time == 0


def test_queue_events_carry_caller_and_agent() -> None:
    caller = Channel("Local/500@test-00000000;2", "1.1", "1.0", "test", "500", 0.0)
    agent = Channel("Local/200@test-00000001;1", "1.2", "1.0", "test", "200", 0.0)
    join = dict(caller_join(caller, 1))
    assert (join["Privilege"], join["Queue"], join["Count"]) == ("agent,all", "testq", "1")
    connect = dict(agent_connect(caller, agent, 3))
    assert connect["Channel"] == caller.name
    assert connect["DestChannel"] == agent.name
    assert connect["MemberName"] == "StaticMember200"
    assert dict(agent_complete(caller, agent, 3, 30))["TalkTime"] == "30"
