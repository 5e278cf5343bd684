"""The push endpoints through deploy/nginx/ajam-gateway.conf on real nginx:
SSE events arrive at once (nothing buffered), heartbeats pass, a reconnect
with Last-Event-ID resumes on the session's own instance, and a WebSocket
upgrades, acts and receives events."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gateway.simulator import Simulator
from tests.support.nginxcluster import Client, Cluster, running_cluster
from tests.support.sseclient import SseClient

HEARTBEAT = 0.5
PROMPT = 1.0
"""Seconds an event may take through nginx: buffering would hold it until a
buffer filled or the stream ended, far beyond this."""


@pytest.fixture
async def push_cluster(tmp_path: Path, simulator: Simulator) -> AsyncIterator[Cluster]:
    async with running_cluster(tmp_path, simulator, push={"heartbeat": HEARTBEAT}) as cluster:
        yield cluster


def headers(client: Client, **extra: str) -> dict[str, str]:
    return {"Cookie": f'mansession_id="{client.session}"', **extra}


def tick(cluster: Cluster, seq: int) -> float:
    cluster.emit(seq)
    return time.monotonic()


async def test_sse_through_nginx_is_prompt_beats_and_resumes(push_cluster: Cluster) -> None:
    cluster = push_cluster
    client = Client("quoted")
    await cluster.login(client)
    path = "/asterisk/events?events=UserEvent"
    stream = await SseClient.open(cluster.nginx.base, path, headers(client))
    assert stream.head.status == 200
    assert stream.head.headers["content-type"] == "text/event-stream; charset=utf-8"
    await stream.next()  # the opening
    ids = []
    for seq in range(1, 4):
        sent = tick(cluster, seq)
        (message,) = await stream.events(1)
        assert time.monotonic() - sent < PROMPT
        assert message.json["Seq"] == str(seq)
        ids.append(message.id)
    beats = 0
    started = time.monotonic()
    while beats < 2:
        beat = await stream.next(timeout=5 * HEARTBEAT)
        assert beat is not None
        beats += beat.comment == ""
    assert time.monotonic() - started < 5 * HEARTBEAT
    await stream.close()
    for seq in range(4, 6):
        cluster.emit(seq)
    await asyncio.sleep(0.2)
    again = await SseClient.open(
        cluster.nginx.base, path, headers(client, **{"Last-Event-ID": str(ids[0])})
    )
    got = await again.events(4)
    assert [m.json["Seq"] for m in got] == ["2", "3", "4", "5"]
    await again.close()


async def test_a_websocket_through_nginx(push_cluster: Cluster, simulator: Simulator) -> None:
    cluster = push_cluster
    client = Client("plain")
    await cluster.login(client)
    url = f"{cluster.nginx.base}/asterisk/ws?events=UserEvent"
    origin = cluster.nginx.base.removeprefix("https://")
    async with cluster.http.ws_connect(
        url, headers=headers(client, Origin=f"https://{origin}")
    ) as ws:
        await ws.send_str(json.dumps({"Action": "Ping", "ActionID": "p"}))
        reply = json.loads((await ws.receive(timeout=5)).data)
        assert reply["response"]["Ping"] == "Pong"
        sent = tick(cluster, 7)
        event = json.loads((await ws.receive(timeout=5)).data)
        assert time.monotonic() - sent < PROMPT
        assert event["event"]["Seq"] == "7"
        # the server's pings (heartbeat) pass through and are answered by the client
        await asyncio.sleep(3 * HEARTBEAT)
        await ws.send_str(json.dumps({"Action": "Ping", "ActionID": "q"}))
        assert json.loads((await ws.receive(timeout=5)).data)["response"]["ActionID"] == "q"
