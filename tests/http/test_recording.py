"""``GET {prefix}/recording?uniqueid=…`` through the gateway: who may, which
file, which bytes (gateway/http/recording.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from aiohttp import ClientResponse

from gateway.app import GATEWAY
from gateway.history.recordings import Recording
from gateway.simulator import Simulator
from tests.support.harness import Client, MakeClient, basic, login, start

UNIQUEID = "1795770510.30"
DAY = "2026/11/27"  # the uniqueid's day in Europe/Moscow
DATA = bytes(range(256)) * 40  # 10,240 bytes


@pytest.fixture
async def client(simulator: Simulator, aiohttp_client: MakeClient, tmp_path: Path) -> Client:
    monitor = tmp_path / "monitor"
    (monitor / DAY).mkdir(parents=True)
    (monitor / DAY / f"external-101-79120000000-{UNIQUEID}.wav").write_bytes(DATA)
    history = {
        "enabled": True,
        "path": str(tmp_path / "h.sqlite3"),
        "pbx_timezone": "Europe/Moscow",
        "recordings_dir": str(monitor),
    }
    return await start(simulator, aiohttp_client, history=history)


async def get(client: Client, headers: dict[str, str] | None = None) -> ClientResponse:
    return await client.get(
        "/asterisk/recording",
        params={"uniqueid": UNIQUEID},
        headers={**basic("admin"), **(headers or {})},
    )


async def test_the_whole_recording(client: Client) -> None:
    response = await get(client)
    assert response.status == 200
    assert await response.read() == DATA
    headers = response.headers
    assert headers["Content-Type"] == "audio/wav"
    assert headers["Content-Length"] == str(len(DATA))
    assert headers["Accept-Ranges"] == "bytes"
    assert headers["ETag"].startswith('"')
    assert headers["Content-Disposition"] == (
        f'inline; filename="external-101-79120000000-{UNIQUEID}.wav"'
    )
    assert headers["Cache-Control"] == "no-cache, no-store"
    assert "Content-Range" not in headers


@pytest.mark.parametrize(
    ("asked", "start", "stop"),
    [("bytes=100-199", 100, 200), ("bytes=10000-", 10000, 10240), ("bytes=-40", 10200, 10240)],
)
async def test_a_range_is_206(client: Client, asked: str, start: int, stop: int) -> None:
    response = await get(client, {"Range": asked})
    assert response.status == 206
    assert await response.read() == DATA[start:stop]
    assert response.headers["Content-Range"] == f"bytes {start}-{stop - 1}/{len(DATA)}"
    assert response.headers["Content-Length"] == str(stop - start)


async def test_a_range_past_the_end_is_416(client: Client) -> None:
    response = await get(client, {"Range": "bytes=10240-"})
    assert response.status == 416
    assert response.headers["Content-Range"] == "bytes */10240"
    assert await response.read() == b""


async def test_several_ranges_or_a_stale_copy_get_the_whole_file(client: Client) -> None:
    several = await get(client, {"Range": "bytes=0-1,5-6"})
    assert (several.status, len(await several.read())) == (200, len(DATA))
    etag = several.headers["ETag"]
    fresh = await get(client, {"Range": "bytes=0-9", "If-Range": etag})
    assert (fresh.status, await fresh.read()) == (206, DATA[:10])
    stale = await get(client, {"Range": "bytes=0-9", "If-Range": '"0-0"'})
    assert (stale.status, len(await stale.read())) == (200, len(DATA))


async def test_head_answers_the_headers_only(client: Client) -> None:
    response = await client.head(
        "/asterisk/recording", params={"uniqueid": UNIQUEID}, headers=basic("admin")
    )
    assert response.status == 200
    assert response.headers["Content-Length"] == str(len(DATA))
    assert await response.read() == b""


async def test_a_session_by_cookie_or_parameter_is_enough(client: Client) -> None:
    session = await login(client)
    client.session.cookie_jar.clear()
    by_parameter = await client.get(
        "/asterisk/recording", params={"uniqueid": UNIQUEID, "mansession_id": session}
    )
    assert (by_parameter.status, len(await by_parameter.read())) == (200, len(DATA))
    by_cookie = await client.get(
        "/asterisk/recording",
        params={"uniqueid": UNIQUEID},
        headers={"Cookie": f'mansession_id="{session}"'},
    )
    assert by_cookie.status == 200


@pytest.mark.parametrize(
    ("params", "headers", "status", "error"),
    [
        ({"uniqueid": "1795770599.1"}, basic("admin"), 404, "no recording for this call"),
        ({"uniqueid": "../" + UNIQUEID}, basic("admin"), 400, "uniqueid must be a call's"),
        ({"uniqueid": ""}, basic("admin"), 400, "uniqueid must be a call's"),
        ({"uniqueid": UNIQUEID, "x": "1"}, basic("admin"), 400, "unknown parameter 'x'"),
        ({"uniqueid": UNIQUEID}, basic("reader"), 403, "the cdr or reporting read class"),
        ({"uniqueid": UNIQUEID}, {}, 401, "log in first"),
        ({"uniqueid": UNIQUEID}, basic("admin", "wrong"), 401, "Authentication failed"),
    ],
)
async def test_refusals_are_json(
    client: Client, params: dict[str, str], headers: dict[str, str], status: int, error: str
) -> None:
    response = await client.get("/asterisk/recording", params=params, headers=headers)
    assert response.status == status
    assert (await response.json())["error"].startswith(error)


async def test_a_file_swapped_for_a_symlink_is_not_followed(client: Client, tmp_path: Path) -> None:
    target = tmp_path / "monitor" / DAY / f"external-101-79120000000-{UNIQUEID}.wav"
    secret = tmp_path / "secret.wav"
    secret.write_bytes(b"secret")
    target.unlink()
    os.symlink(secret, target)
    response = await get(client)
    assert response.status == 404


async def test_no_recordings_dir_no_route(simulator: Simulator, aiohttp_client: MakeClient) -> None:
    plain = await start(simulator, aiohttp_client)
    response = await plain.get("/asterisk/recording", params={"uniqueid": UNIQUEID})
    assert response.status == 404  # the AJAM catch-all's page, as for any unknown path
    assert response.content_type == "text/html"


async def test_a_name_beyond_ascii_is_given_as_utf8(client: Client, tmp_path: Path) -> None:
    folder = tmp_path / "monitor" / DAY
    (folder / f"external-101-79120000000-{UNIQUEID}.wav").rename(folder / f"звонок {UNIQUEID}.wav")
    response = await get(client)
    assert response.status == 200
    assert response.headers["Content-Disposition"] == (
        "inline; filename*=UTF-8''%D0%B7%D0%B2%D0%BE%D0%BD%D0%BE%D0%BA%20" + UNIQUEID + ".wav"
    )


async def test_an_over_long_query_is_414(client: Client) -> None:
    response = await client.get(
        "/asterisk/recording?uniqueid=" + "1" * 70_000, headers=basic("admin")
    )
    assert response.status == 414


@pytest.mark.parametrize("what", ["gone", "a folder"])
async def test_what_changed_after_the_lookup_is_404(
    client: Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, what: str
) -> None:
    """The file went, or became something else, between the lookup and the open."""
    service = client.app[GATEWAY].history
    path = tmp_path / "monitor" / DAY / ("gone.wav" if what == "gone" else "")

    async def found(uniqueid: str) -> Recording:
        return Recording(path, "audio/wav")

    monkeypatch.setattr(service, "recording", found)
    response = await get(client)
    assert response.status == 404
