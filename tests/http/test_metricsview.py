"""``/metrics`` scraped while the gateway works: exact counters for a known sequence."""

from __future__ import annotations

import asyncio

from aiohttp import web
from prometheus_client.openmetrics.exposition import CONTENT_TYPE_LATEST as OPENMETRICS

from gateway.app import GATEWAY
from gateway.core.metrics import Metrics
from gateway.http.metricsview import metrics_view
from gateway.http.middleware import gateway_middleware
from gateway.simulator import Simulator
from tests.support.harness import (
    Client,
    MakeClient,
    Samples,
    login,
    new_app,
    rawman,
    sample,
    scrape,
    start,
    until,
    user_event,
)


def diff(after: Samples, before: Samples, name: str, **labels: str) -> float:
    return sample(after, name, **labels) - sample(before, name, **labels)


async def learnt(client: Client) -> None:
    """Until ListCommands is in: unknown actions are then refused without a round trip."""
    gateway = client.app[GATEWAY]
    await until(lambda: gateway.accounts.permissions.authoritative)


async def test_actions_sessions_and_http_statuses_are_counted_exactly(
    simulator: Simulator, aiohttp_client: MakeClient
) -> None:
    client = await start(simulator, aiohttp_client)
    await learnt(client)
    admin = await login(client)
    reader = await login(client, "reader")
    client.session.cookie_jar.clear()
    refused = await client.get("/asterisk/rawman?action=login&username=admin&secret=wrong")
    assert "Authentication failed" in await refused.text()
    for _ in range(2):
        assert (await rawman(client, admin, "action=ping")).startswith("Response: Success")
    assert "Invalid/unknown command" in await rawman(client, admin, "action=NoSuchThing")
    assert "Permission denied" in await rawman(client, reader, "action=originate")
    assert (await client.get("/nope")).status == 404
    poll = asyncio.create_task(rawman(client, reader, "action=waitevent&timeout=1"))
    gateway = client.app[GATEWAY]
    await until(lambda: gateway.sessions.waiting_count == 1)
    samples = await scrape(client)
    assert (
        sample(samples, "ajam_actions_total", action="Login", outcome="success", door="http") == 2
    )
    assert sample(samples, "ajam_actions_total", action="Login", outcome="error", door="http") == 1
    assert sample(samples, "ajam_actions_total", action="Ping", outcome="success", door="http") == 2
    assert sample(samples, "ajam_actions_total", action="other", outcome="error", door="http") == 1
    assert (
        sample(samples, "ajam_actions_total", action="Originate", outcome="denied", door="http")
        == 1
    )
    assert sample(samples, "ajam_ami_roundtrip_seconds_count") == 2
    assert sample(samples, "ajam_http_requests_total", status="200") == 7
    assert sample(samples, "ajam_http_requests_total", status="404") == 1
    assert sample(samples, "ajam_sessions", state="authenticated") == 2
    assert sample(samples, "ajam_sessions", state="unauthenticated") == 0
    assert sample(samples, "ajam_pending_polls") == 1
    assert sample(samples, "ajam_ami_up") == 1
    assert sample(samples, "ajam_ami_reconnects_total") == 0
    assert sample(samples, "ajam_ami_login_failures_total") == 0
    await poll
    after = await scrape(client)
    assert (
        sample(after, "ajam_actions_total", action="WaitEvent", outcome="success", door="http") == 1
    )
    assert sample(after, "ajam_pending_polls") == 0
    assert sample(after, "ajam_http_requests_total", status="200") == 9  # the poll and a scrape


async def test_events_received_delivered_filtered_and_timed(
    simulator: Simulator, aiohttp_client: MakeClient
) -> None:
    client = await start(simulator, aiohttp_client)
    metrics = client.app[GATEWAY].metrics
    admin, reader = await login(client), await login(client, "reader")
    for session in (admin, reader):  # past the SuccessfulAuth events
        await rawman(client, session, "action=waitevent&timeout=0")
    before = await scrape(client)
    received = metrics.events_received
    for name in ("A", "B", "C"):
        simulator.emit(user_event(name))
    simulator.emit(user_event("D", "call,all"))
    await until(lambda: metrics.events_received == received + 4)
    everything = await rawman(client, admin, "action=waitevent&timeout=0")
    assert [n for n in "ABCD" if f"UserEvent: {n}\r\n" in everything] == list("ABCD")
    only_call = await rawman(client, reader, "action=waitevent&timeout=0")
    assert "UserEvent: D\r\n" in only_call
    assert "UserEvent: A\r\n" not in only_call
    after = await scrape(client)
    assert diff(after, before, "ajam_events_received_total") == 4
    assert diff(after, before, "ajam_events_delivered_total") == 5
    assert diff(after, before, "ajam_events_dropped_total", reason="filtered") == 3
    assert diff(after, before, "ajam_events_dropped_total", reason="ring_overflow") == 0
    assert diff(after, before, "ajam_event_delivery_seconds_count") == 2
    assert 0 < diff(after, before, "ajam_event_delivery_seconds_sum") < 10


async def test_events_lost_from_a_small_ring_are_counted(
    simulator: Simulator, aiohttp_client: MakeClient
) -> None:
    client = await start(simulator, aiohttp_client, events={"ring_size": 2})
    metrics = client.app[GATEWAY].metrics
    session = await login(client)
    await rawman(client, session, "action=waitevent&timeout=0&cursor=")
    received = metrics.events_received
    for i in range(5):
        simulator.emit(user_event(f"E{i}"))
    await until(lambda: metrics.events_received == received + 5)
    body = await rawman(client, session, "action=waitevent&timeout=0")
    assert "Lost: 3\r\n" in body
    samples = await scrape(client)
    assert sample(samples, "ajam_events_dropped_total", reason="ring_overflow") == 3


async def test_ami_reconnects_and_login_failures(
    simulator: Simulator, aiohttp_client: MakeClient
) -> None:
    client = await start(simulator, aiohttp_client)
    gateway = client.app[GATEWAY]
    await simulator.stop()
    await until(lambda: not gateway.ami.ready)
    assert sample(await scrape(client), "ajam_ami_up") == 0
    await simulator.start()
    await until(lambda: gateway.ami.ready)
    samples = await scrape(client)
    assert sample(samples, "ajam_ami_up") == 1
    assert sample(samples, "ajam_ami_reconnects_total") >= 1
    assert sample(samples, "ajam_ami_login_failures_total") == 0
    wrong = await aiohttp_client(new_app(simulator.port, ami={"secret": "wrong"}))
    await until(lambda: wrong.app[GATEWAY].ami.login_failures >= 1)
    samples = await scrape(wrong)
    assert sample(samples, "ajam_ami_login_failures_total") >= 1
    assert sample(samples, "ajam_ami_up") == 0


async def test_http_login_failures_by_event(
    simulator: Simulator, aiohttp_client: MakeClient
) -> None:
    client = await start(simulator, aiohttp_client)
    before = await scrape(client)
    assert sample(before, "ajam_login_failures_total", event="InvalidPassword", door="http") == 0
    await rawman(client, None, "action=login&username=admin&secret=wrong")
    await rawman(client, None, "action=login&username=nobody&secret=x")
    client.session.cookie_jar.clear()
    basic = {"Authorization": "Basic YWRtaW46d3Jvbmc="}  # admin:wrong
    await client.get("/asterisk/rawman?action=ping", headers=basic)
    after = await scrape(client)
    assert (
        diff(after, before, "ajam_login_failures_total", event="InvalidPassword", door="http") == 2
    )
    assert (
        diff(after, before, "ajam_login_failures_total", event="InvalidAccountID", door="http") == 1
    )


async def test_openmetrics_on_request_and_a_registry_per_app(
    simulator: Simulator, aiohttp_client: MakeClient
) -> None:
    first = await start(simulator, aiohttp_client)
    second = await start(simulator, aiohttp_client)
    await login(first)
    response = await first.get("/metrics", headers={"Accept": OPENMETRICS})
    assert response.headers["Content-Type"].startswith("application/openmetrics-text;")
    assert (await response.text()).endswith("# EOF\n")
    plain = await first.get("/metrics")
    assert plain.headers["Content-Type"].startswith("text/plain")
    samples = await scrape(second)
    assert (
        sample(samples, "ajam_actions_total", action="Login", outcome="success", door="http") == 0
    )


async def test_the_middleware_counts_raised_http_errors_and_crashes(
    aiohttp_client: MakeClient,
) -> None:
    metrics = Metrics()

    async def forbidden(request: web.Request) -> web.Response:
        raise web.HTTPForbidden

    async def crash(request: web.Request) -> web.Response:
        raise RuntimeError("bug")

    app = web.Application(middlewares=[gateway_middleware(metrics, ())])
    app.router.add_get("/forbidden", forbidden)
    app.router.add_get("/crash", crash)
    app.router.add_get("/metrics", metrics_view(metrics))
    client = await aiohttp_client(app)
    assert (await client.get("/forbidden")).status == 403
    assert (await client.get("/crash")).status == 500
    samples = await scrape(client)
    assert sample(samples, "ajam_http_requests_total", status="403") == 1
    assert sample(samples, "ajam_http_requests_total", status="500") == 1
