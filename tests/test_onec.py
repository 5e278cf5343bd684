"""A 1C:Enterprise client, simulated: the plain exchanges, one by one.

The kit's module (clients/1c/AjamGateway.bsl) has its own tests,
tests/test_onec_kit*.py.  No 1C platform runs here, so this test sends what
1C's HTTPСоединение sends: no cookie ever (1C keeps none), Basic credentials
built from UTF-8 (ПолучитьДвоичныеДанныеИзСтроки + Base64Строка), form
values encoded as КодироватьСтроку(..., КодировкаURL) with ``%20`` turned
into ``+``, JSON answers decoded as UTF-8 (ПолучитьТелоКакСтроку) and parsed
into maps (ПрочитатьJSON(..., Истина)).  The caller name travels in Cyrillic
from the form body through AMI and back in the events.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import quote

import pytest
from aiohttp import ClientSession, DummyCookieJar, web
from aiohttp.test_utils import TestServer

from gateway.simulator import Simulator
from tests.harness import new_app, wait_ready

CRM_PASSWORD = "пароль-crm"  # a Cyrillic password: Basic credentials are UTF-8
CRM_USER = {"secret": CRM_PASSWORD, "read": "call", "write": "originate,call"}
CALLER_NAME = "Иван Петров"
FORM_TYPE = "application/x-www-form-urlencoded"

MakeServer = Callable[[web.Application], Any]


def form_value(value: str) -> str:
    """ВФорму(): КодироватьСтроку(..., КодировкаURL), then "%20" to "+"."""
    return quote(value, safe="").replace("%20", "+")


def basic_header(user: str, password: str) -> str:
    """ЗаголовокBasic(): "Basic " + Base64Строка(UTF-8 bytes, no BOM)."""
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def read_answer(status: int, body: bytes, content_type: str) -> dict[str, Any]:
    """ПрочитатьОтвет(): status 200, UTF-8 text, JSON into maps."""
    assert status == 200
    assert content_type == "application/json; charset=utf-8"
    answer: dict[str, Any] = json.loads(body.decode("utf-8"))
    return answer


@pytest.fixture
async def onec(simulator: Simulator, aiohttp_server: MakeServer) -> AsyncIterator[ClientSession]:
    """An HTTP client that, like HTTPСоединение, keeps no cookies."""
    app = new_app(simulator.port, users={"crm": CRM_USER})
    server: TestServer = await aiohttp_server(app)
    await wait_ready(app)
    async with ClientSession(
        base_url=f"http://127.0.0.1:{server.port}", cookie_jar=DummyCookieJar()
    ) as session:
        yield session


async def call(onec: ClientSession, channel: str, context: str, number: str, name: str) -> bool:
    """Позвонить(): one POST with Basic, no session."""
    body = (
        "action=Originate"
        + "&Channel="
        + form_value(channel)
        + "&Context="
        + form_value(context)
        + "&Exten="
        + form_value(number)
        + "&Priority=1"
        + "&CallerID="
        + form_value(f'"{name}" <{number}>')
        + "&Async=true"
    )
    headers = {"Authorization": basic_header("crm", CRM_PASSWORD), "Content-Type": FORM_TYPE}
    async with onec.post("/asterisk/json", data=body.encode(), headers=headers) as reply:
        assert "Set-Cookie" not in reply.headers  # one-shot: no session was made
        answer = read_answer(reply.status, await reply.read(), reply.headers["Content-Type"])
    return bool(answer["response"]["Response"] == "Success")


async def log_in(onec: ClientSession) -> str:
    """Войти(): Login with Basic; the session id comes from the JSON."""
    headers = {"Authorization": basic_header("crm", CRM_PASSWORD)}
    async with onec.get("/asterisk/json?action=Login", headers=headers) as reply:
        answer = read_answer(reply.status, await reply.read(), reply.headers["Content-Type"])
    assert answer["response"]["Response"] == "Success", answer
    session: str = answer["session"]
    return session


async def wait_events(onec: ClientSession, session: str) -> dict[str, Any]:
    """One round of СледитьЗаЗвонками(): mansession_id in the query, no cookie."""
    path = "/asterisk/json?action=WaitEvent&Timeout=20&mansession_id=" + session
    async with onec.get(path) as reply:
        return read_answer(reply.status, await reply.read(), reply.headers["Content-Type"])


async def test_click_to_call_and_event_loop_round_trip_cyrillic(
    onec: ClientSession, simulator: Simulator
) -> None:
    session = await log_in(onec)
    assert await call(onec, "Local/600@test", "test", "300", CALLER_NAME)
    originate = next(m for m in reversed(simulator.received) if m.get("Action") == "Originate")
    assert originate.get("CallerID") == f'"{CALLER_NAME}" <300>'  # "+" became a space
    assert originate.get("Channel") == "Local/600@test"
    events: list[dict[str, Any]] = []
    for _ in range(20):
        answer = await wait_events(onec, session)
        assert answer["response"]["Response"] == "Success", answer
        assert answer["events"][-1]["Event"] == "WaitEventComplete"
        events += answer["events"][:-1]
        if any(e["Event"] == "Hangup" for e in events):
            break
    names = {e["Event"] for e in events}
    assert {"Newchannel", "NewCallerid", "Hangup"} <= names
    assert any(e.get("CallerIDName") == CALLER_NAME for e in events)
    assert all(e["Event"] != "UserEvent" for e in events)  # read=call: not class user


async def test_mistakes_get_clear_answers(onec: ClientSession) -> None:
    headers = {"Authorization": basic_header("crm", CRM_PASSWORD)}
    async with onec.get("/asterisk/json?action=WaitEvent", headers=headers) as reply:
        answer = read_answer(reply.status, await reply.read(), reply.headers["Content-Type"])
    assert answer == {
        "response": {"Response": "Error", "Message": "waitevent needs a session"},
        "events": [],
    }
    async with onec.get("/asterisk/json?action=WaitEvent&mansession_id=gone") as reply:
        answer = read_answer(reply.status, await reply.read(), reply.headers["Content-Type"])
    assert answer["response"] == {"Response": "Error", "Message": "Permission denied"}
    wrong = {"Authorization": basic_header("crm", "пароль")}
    async with onec.get("/asterisk/json?action=Ping", headers=wrong) as reply:
        answer = read_answer(reply.status, await reply.read(), reply.headers["Content-Type"])
    assert answer["response"]["Message"] == "Authentication failed"
