"""ajam_http_max_connections beside ajam_http_connections, so that an alert
can watch their ratio whatever max_connections says, after a reload too."""

from __future__ import annotations

import socket

from aiohttp import web

from gateway.config import LimitsConfig
from gateway.core.metrics import Metrics
from gateway.http.server import GatewayRunner
from tests.support.harness import until


def gauge(metrics: Metrics, name: str) -> float | None:
    return metrics.registry.get_sample_value(name)


async def test_the_limit_and_the_open_connections() -> None:
    runner = GatewayRunner(web.Application(), limits=LimitsConfig(max_connections=7))
    await runner.setup()
    metrics = Metrics()
    metrics.watch_connections(runner.counts)
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        assert gauge(metrics, "ajam_http_max_connections") == 7
        assert gauge(metrics, "ajam_http_connections") == 0
        runner.configure(LimitsConfig(max_connections=9))  # SIGHUP
        assert gauge(metrics, "ajam_http_max_connections") == 9
        host, port = runner.addresses[0][:2]
        with socket.create_connection((host, port)):
            await until(lambda: gauge(metrics, "ajam_http_connections") == 1)
    finally:
        await runner.cleanup()
