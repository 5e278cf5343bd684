"""РаспознатьСобытие on the simulator's calls, and ИсторияЗвонков (the twins of
clients/1c/AjamGateway.bsl).

The simulator's dialplan is the captures' (tests/fixtures/asterisk-22): 400
dials Local/100 (a direct call to an extension), 500 queues to the static
member Local/200 (ringall).  Their events reach the recognizer as the
module reads them: through the gateway's JSON, by a session of the kit's
user.  Where a real PBX differs (app_queue publishes AgentCalled before
the member's DialBegin; FreePBX rings a phone through a Local channel; a
missed call ends in DialEnd NOANSWER), the events are built by hand from
the same fields, and say so.
"""

from __future__ import annotations

import re
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from gateway.app import GATEWAY
from gateway.simulator import Simulator
from tests.support.harness import until
from tests.support.onec_gateway import (
    CLIENT,
    PASSWORD,
    events_of_calls,
    incoming,
    kit_app,
    kit_settings,
    serve,
)
from tests.support.onec_platform import Map, OnecError, Structure
from tests.support.onec_recognizer import extension_of, new_state, recognize, to_structure
from tests.support.onec_twin import get_recording, history, recording_url

CHANNEL = r"Local/{}@test-[0-9a-f]{{8}};{}"


def hangups(count: int) -> Any:
    return lambda events: sum(e["Event"] == "Hangup" for e in events) >= count


def recognized(events: list[Map], extensions: list[str] | None = None) -> list[Structure]:
    state, notices = new_state(), []
    for one in events:
        notices += recognize(one, state, extensions)
    assert state == new_state()  # every call that rang has ended: nothing is kept
    return notices


def uniqueid(events: list[Map], channel: str) -> str:
    [found] = [
        e["Uniqueid"] for e in events if e["Event"] == "Newchannel" and e["Channel"] == channel
    ]
    value: str = found
    return value


def by_kind(notices: list[Structure], extension: str) -> dict[str, Structure]:
    mine = [n for n in notices if n["Добавочный"] == extension]
    assert [n.Вид for n in mine] == ["Звонит", "Ответили", "Завершён"]
    return {n.Вид: n for n in mine}


async def events_of(simulator: Simulator, extension: str) -> list[Map]:
    """A client's call to ``extension``, every event of it as a kit session reads them."""
    async with serve(kit_app(simulator)) as port:
        start = partial(incoming, simulator, extension, 1)
        return await events_of_calls(kit_settings(port), start, hangups(4))


async def test_a_direct_call_to_an_extension(simulator: Simulator) -> None:
    events = await events_of(simulator, "400")
    # The user reads cdr too (for the history); Login's Events=call,agent,system keeps
    # the CDRs, which come between the Hangups, out of the loop.
    assert "Cdr" not in {e["Event"] for e in events}
    notices = recognized(events)
    assert [(n.Вид, n.Добавочный) for n in notices] == [
        ("Звонит", "400"),  # the Originate that plays the client's trunk: no calling channel
        ("Звонит", "100"),
        ("Ответили", "100"),
        ("Ответили", "400"),
        ("Завершён", "400"),
        ("Завершён", "100"),
    ]
    assert notices[0].Исходящий
    calls = by_kind(notices, "100")
    ringing = calls["Звонит"]
    assert re.fullmatch(CHANNEL.format("100", 1), ringing.Канал)
    assert re.fullmatch(CHANNEL.format("400", 2), ringing.КаналЗвонящего)
    assert ringing == {
        "Вид": "Звонит",
        "Добавочный": "100",
        "НомерЗвонящего": CLIENT[1],
        "ИмяЗвонящего": CLIENT[0],
        "Канал": ringing.Канал,
        "КаналЗвонящего": ringing.КаналЗвонящего,
        "Linkedid": uniqueid(events, ringing.КаналЗвонящего.replace(";2", ";1")),
        "Uniqueid": uniqueid(events, ringing.Канал),
        "Очередь": "",
        "Исходящий": False,
        "Отвечен": False,
        "Статус": "",
        "Причина": "",
    }
    assert calls["Ответили"] == {**ringing, "Вид": "Ответили", "Отвечен": True, "Статус": "ANSWER"}
    hangup = next(e for e in events if e["Event"] == "Hangup" and e["Channel"] == ringing.Канал)
    assert calls["Завершён"] == {
        **calls["Ответили"],
        "Вид": "Завершён",
        "Причина": hangup["Cause-txt"],
    }


async def test_a_call_through_the_queue(simulator: Simulator) -> None:
    events = await events_of(simulator, "500")
    names = [e["Event"] for e in events]
    assert {"QueueCallerJoin", "AgentCalled", "AgentConnect"} <= set(names)
    notices = recognized(events, ["200"])
    calls = by_kind(notices, "200")
    assert len(notices) == 3
    assert calls["Звонит"].НомерЗвонящего == CLIENT[1]
    assert re.fullmatch(CHANNEL.format("200", 1), calls["Звонит"].Канал)
    # The simulator writes the member's DialBegin before AgentCalled: the
    # queue's name comes with the answer.
    assert [calls[kind].Очередь for kind in ("Звонит", "Ответили", "Завершён")] == [
        "",
        "testq",
        "testq",
    ]
    # app_queue.c (ring_entry) publishes AgentCalled first: then the card has it at once.
    asterisk_order = list(events)
    called = names.index("AgentCalled")
    begin = max(i for i in range(called) if names[i] == "DialBegin")
    asterisk_order.insert(begin, asterisk_order.pop(called))
    again = by_kind(recognized(asterisk_order, ["200"]), "200")
    assert again["Звонит"].Очередь == "testq"
    assert {k: v for k, v in again["Звонит"].items() if k != "Очередь"} == {
        k: v for k, v in calls["Звонит"].items() if k != "Очередь"
    }


async def test_the_loop_reads_its_extensions_calls_only(simulator: Simulator) -> None:
    """Добавочные go to the gateway as WaitEvent's Extension: a queue call to 200
    at the same time never reaches a loop for 100, and 100's card is the same."""
    async with serve(kit_app(simulator)) as port:

        def both() -> None:
            incoming(simulator, "400", 1)
            incoming(simulator, "500", 1)

        settings = kit_settings(port, Добавочные=["100"])
        events = await events_of_calls(settings, both, hangups(4))
    linkedids = {e["Linkedid"] for e in events if e["Linkedid"] is not None}
    assert len(linkedids) == 1  # the direct call's only
    assert not {"QueueCallerJoin", "AgentCalled"} & {e["Event"] for e in events}
    calls = by_kind(recognized(events, ["100"]), "100")
    assert calls["Звонит"].Linkedid in linkedids
    assert calls["Звонит"].НомерЗвонящего == CLIENT[1]


def dial(kind: str, caller: str, dest: str, linkedid: str, uid: str, **extra: str) -> Map:
    """A DialBegin/DialEnd/AgentCalled as Asterisk 22 writes it (the fields the
    recognizer reads; the captures show the full snapshot)."""
    fields = {"Event": kind, "Channel": caller, "CallerIDNum": "74951234567"}
    fields |= {"CallerIDName": "ООО Ромашка", "DestChannel": dest, "DestUniqueid": uid}
    fields |= {"DestLinkedid": linkedid, "DestCallerIDNum": "101", **extra}
    return Map(fields)


def channel_event(kind: str, channel: str, uid: str, **extra: str) -> Map:
    return Map({"Event": kind, "Channel": channel, "Uniqueid": uid, **extra})


def test_freepbx_rings_a_phone_through_a_local_channel_one_card() -> None:
    """Queue member Local/101@from-queue/n, which dials PJSIP/101: two channels, one call."""
    trunk, local = "PJSIP/trunk-00000010", "Local/101@from-queue-0000000a;1"
    inner, phone = "Local/101@from-queue-0000000a;2", "PJSIP/101-00000011"
    events = [
        dial("AgentCalled", trunk, local, "1.10", "1.11", Queue="sales"),
        dial("DialBegin", trunk, local, "1.10", "1.11", DialString="Local/101@from-queue/n"),
        dial("DialBegin", inner, phone, "1.10", "1.13", DialString="101"),
        channel_event("Newstate", phone, "1.13", ChannelState="5"),  # Ringing
        channel_event("Newstate", phone, "1.13", ChannelState="6"),
        dial("DialEnd", inner, phone, "1.10", "1.13", DialStatus="ANSWER"),
        dial("DialEnd", trunk, local, "1.10", "1.11", DialStatus="ANSWER"),
        channel_event("Hangup", phone, "1.13", **{"Cause-txt": "Normal Clearing"}),
        channel_event("Hangup", local, "1.11", **{"Cause-txt": "Normal Clearing"}),
    ]
    notices = recognized(events, ["101"])
    assert [(n.Вид, n.Канал, n.Очередь) for n in notices] == [
        ("Звонит", local, "sales"),
        ("Ответили", phone, "sales"),
        ("Завершён", phone, "sales"),
    ]
    assert notices[0].НомерЗвонящего == "74951234567"  # the caller's, not the phone's own
    assert notices[0].ИмяЗвонящего == "ООО Ромашка"


def test_a_missed_call_and_a_lost_link() -> None:
    phone = "PJSIP/102-00000020"
    missed = [
        dial("DialBegin", "PJSIP/trunk-1f", phone, "2.1", "2.2"),
        dial("DialEnd", "PJSIP/trunk-1f", phone, "2.1", "2.2", DialStatus="NOANSWER"),
        channel_event("Hangup", phone, "2.2", **{"Cause-txt": "User alerting, no answer"}),
    ]
    [ringing, ended] = recognized(missed)
    assert (ended.Вид, ended.Отвечен, ended.Статус) == ("Завершён", False, "NOANSWER")
    assert ended.Причина == "User alerting, no answer"
    state = new_state()
    recognize(missed[0], state)
    down = recognize(Map({"Event": "GatewayAMIDown", "Reason": "x"}), state)
    assert [(n.Вид, n.Причина) for n in down] == [
        ("СобытияПотеряны", "GatewayAMIDown"),
        ("Завершён", "GatewayAMIDown"),
    ]
    assert down[1].Uniqueid == ringing.Uniqueid
    assert state == new_state()
    assert recognize(missed[2], state) == []  # its Hangup, later: already closed


@pytest.mark.parametrize(
    ("channel", "extension"),
    [
        ("PJSIP/101-0000000a", "101"),
        ("SIP/101-0000000a", "101"),
        ("Local/101@from-queue-0000001b;1", "101"),
        ("PJSIP/trunk-out-00000001", "trunk-out"),
        ("IAX2/101-1234", "101"),
        ("garbage", ""),
    ],
)
def test_the_extension_of_a_channel(channel: str, extension: str) -> None:
    assert extension_of(channel) == extension


# -- ИсторияЗвонков ---------------------------------------------------------------------


async def test_history_of_a_client_and_its_errors(simulator: Simulator, tmp_path: Path) -> None:
    section = {"enabled": True, "path": str(tmp_path / "h.sqlite3"), "flush_interval": 0.02}
    app = kit_app(simulator, history=section)
    async with serve(app) as bound:
        incoming(simulator, "100", 1)  # a client's call answered by extension 100
        recorder = app[GATEWAY].history.recorder
        assert recorder is not None
        await until(lambda: recorder.written >= 2, timeout=10)
        settings = kit_settings(bound)
        calls = await history(settings, "+7 (912) 000-00-00", 5)
        assert len(calls) == 2
        assert all(isinstance(c, Structure) for c in calls)
        assert {(c.src, c.dst, c.disposition) for c in calls} == {(CLIENT[1], "100", "ANSWERED")}
        assert isinstance(calls[0].duration, int)
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d", calls[0].start)
        errors = [
            (settings, "79120000000", 0, "HTTP 400: limit must be at least 1 (поле limit)"),
            (settings, "без цифр", 5, "HTTP 400: number holds no digits (поле number)"),
            (
                kit_settings(bound, Пользователь="nocdr"),
                "79120000000",
                5,
                "HTTP 403: the cdr or reporting read class is required",
            ),
            (kit_settings(bound, Пароль="x"), "79120000000", 5, "HTTP 401: Authentication failed"),
        ]
        for who, number, count, text in errors:
            with pytest.raises(OnecError) as raised:
                await history(who, number, count)
            assert str(raised.value) == "ajam-gateway /history: " + text
    assert PASSWORD


def test_history_keeps_the_columns_a_structure_can_hold() -> None:
    call = Map({"src": "1", "recordingfile": "a.wav", "Звонок_1": 2, "bad-key": 3, "1x": 4})
    assert to_structure(call) == {"src": "1", "recordingfile": "a.wav", "Звонок_1": 2}


def test_the_recording_url() -> None:
    settings = kit_settings(8443, Хост="ajam.example.com", ЗащищенноеСоединение=True)
    assert recording_url(settings, "1795770510.30") == (
        "https://ajam.example.com:8443/asterisk/recording?uniqueid=1795770510.30"
    )


# -- ПолучитьЗапись -------------------------------------------------------------------------


async def test_a_recording_whole_in_parts_or_none(simulator: Simulator, tmp_path: Path) -> None:
    uniqueid = "1795770510.30"
    monitor = tmp_path / "monitor"
    (monitor / "2026/11/27").mkdir(parents=True)
    data = bytes(range(256)) * 8
    (monitor / "2026/11/27" / f"external-100-{uniqueid}.wav").write_bytes(data)
    section = {
        "enabled": True,
        "path": str(tmp_path / "h.sqlite3"),
        "pbx_timezone": "Europe/Moscow",
        "recordings_dir": str(monitor),
    }
    async with serve(kit_app(simulator, history=section)) as bound:
        settings = kit_settings(bound)
        whole = await get_recording(settings, uniqueid)
        assert whole is not None
        assert whole == {"Данные": data, "ТипСодержимого": "audio/wav", "Диапазон": ""}
        head = await get_recording(settings, uniqueid, 0, 99)  # Range: bytes=0-99
        assert head == {
            "Данные": data[:100],
            "ТипСодержимого": "audio/wav",
            "Диапазон": f"bytes 0-99/{len(data)}",
        }
        tail = await get_recording(settings, uniqueid, 2000)  # Range: bytes=2000-
        assert tail is not None
        assert (tail.Данные, tail.Диапазон) == (data[2000:], f"bytes 2000-2047/{len(data)}")
        assert await get_recording(settings, "1795770599.1") is None  # 404
        with pytest.raises(OnecError) as raised:
            await get_recording(settings, uniqueid, 5000)
        assert str(raised.value) == "ajam-gateway /recording: HTTP 416"
        with pytest.raises(OnecError) as raised:
            await get_recording(kit_settings(bound, Пользователь="nocdr"), uniqueid)
        assert str(raised.value) == (
            "ajam-gateway /recording: HTTP 403: the cdr or reporting read class is required"
        )
