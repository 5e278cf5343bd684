"""Operating the push streams: reload, drain, metrics, and the metrics page's table."""

from __future__ import annotations

import dataclasses

from gateway.app import GATEWAY, PUSH_ROUTES
from gateway.lifecycle import begin_drain, reload_config
from gateway.push.metrics import NAMES
from gateway.push.settings import PushSettings
from gateway.push.stream import CloseReason, StreamKind
from gateway.simulator import Simulator
from tests.support.docs import metrics_text
from tests.support.harness import gateway_config, scrape_url, until, user_event
from tests.support.pushclient import EVENTS, Serve, cookie, login
from tests.support.sseclient import SseClient


async def test_a_reload_applies_push_settings_but_not_enabled(
    serve: Serve, simulator: Simulator
) -> None:
    app, base = await serve()
    session = await login(base)
    stream = await SseClient.open(base, f"{EVENTS}?events=UserEvent", cookie(session))
    await stream.next()
    new = gateway_config(
        simulator.port,
        push={"heartbeat": 0.2, "enabled": False, "retry": 5},
        limits={"max_query": 100},
    )
    warnings = reload_config(app, new)
    assert all(route.max_query == 100 for route in app[PUSH_ROUTES])
    assert warnings == ["[push] enabled changed: it takes effect only after a restart"]
    settings = app[GATEWAY].push.settings
    assert settings == dataclasses.replace(PushSettings(), heartbeat=0.2, retry=5)
    beat = await stream.next(timeout=3)  # the new heartbeat, on the stream already open
    assert beat is not None
    assert beat.comment == ""
    simulator.emit(user_event("Still"))
    (message,) = await stream.events(1)
    assert message.json["UserEvent"] == "Still"
    await stream.close()


async def test_a_drain_ends_every_stream_and_the_metrics_say_so(serve: Serve) -> None:
    app, base = await serve()
    gateway = app[GATEWAY]
    path = f"{EVENTS}?events=UserEvent"  # the notice comes whatever the names
    streams = [await SseClient.open(base, path, cookie(await login(base))) for _ in range(3)]
    samples = await scrape_url(base)
    assert samples[("ajam_push_streams", frozenset({("kind", "sse")}))] == 3
    begin_drain(gateway)
    for stream in streams:
        await stream.next()  # the opening
        (closed,) = await stream.events(1)
        assert closed.json["Reason"] == "shutdown"
        assert await stream.next() is None
        await stream.close()
    await until(lambda: gateway.push.open_count(StreamKind.SSE) == 0)
    closed_counts = gateway.push.counts.kinds[StreamKind.SSE].closed
    assert closed_counts[CloseReason.SHUTDOWN] == 3
    samples = await scrape_url(base)
    key = ("ajam_push_streams_closed_total", frozenset({("kind", "sse"), ("reason", "shutdown")}))
    assert samples[key] == 3


async def test_the_metrics_page_lists_every_push_metric(serve: Serve) -> None:
    _, base = await serve()
    samples = await scrape_url(base)
    families = {name.removesuffix("_total") for name, _ in samples}
    for name in NAMES:
        assert name in families or f"{name}_count" in families, name
        assert f"`{name}" in metrics_text(), name
    exposed = {n for n in families if n.startswith("ajam_push")}
    expected = set(NAMES) | {
        f"ajam_push_delivery_seconds_{s}" for s in ("bucket", "count", "sum", "created")
    }
    assert exposed <= expected | {f"{n}_created" for n in NAMES}
