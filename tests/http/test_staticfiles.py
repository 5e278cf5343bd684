"""Static pages under {prefix}/static/ (gateway/http/staticfiles.py): what is
served, with which headers, and every way out of the directory refused."""

from __future__ import annotations

import asyncio
import contextlib
import os
from pathlib import Path

import pytest

from gateway.http.staticfiles import package_static, segments
from gateway.simulator import Simulator
from tests.support.harness import Client, MakeClient, basic, login, start

NOT_FOUND = "The requested URL was not found on this server."


def tree(root: Path) -> Path:
    """A static_dir with a page, a module, a subdirectory, dotfiles and symlinks."""
    site = root / "site"
    (site / "app").mkdir(parents=True)
    (site / "empty").mkdir()
    (site / ".git").mkdir()
    (site / "index.html").write_text("<p>root</p>")
    (site / "app" / "index.html").write_text("<p>app</p>")
    (site / "app" / "main.mjs").write_text("export const x = 1;\n")
    (site / "astman.js").write_text("var astmanEngine;\n")
    (site / "astman.css").write_text("p { color: red }\n")
    (site / "data.bin").write_bytes(b"\x00\x01")
    (site / ".secret").write_text("dotfile")
    (site / ".git" / "config").write_text("[core]")
    (root / "outside.txt").write_text("outside")
    (root / "outdir").mkdir()
    (root / "outdir" / "index.html").write_text("outside dir")
    (site / "out.txt").symlink_to(root / "outside.txt")
    (site / "outdir").symlink_to(root / "outdir")
    (site / "in.css").symlink_to(site / "astman.css")
    (site / "shown.txt").symlink_to(site / ".secret")
    (site / "app" / "up").symlink_to(site)
    (site / "private").mkdir()
    (site / "private" / "panel.html").write_text("for logged-in users")
    (site / "pub").symlink_to(site / "private")
    return site


@pytest.fixture
async def client(simulator: Simulator, aiohttp_client: MakeClient, tmp_path: Path) -> Client:
    return await start(simulator, aiohttp_client, http={"static_dir": str(tree(tmp_path))})


async def raw_get(port: int, target: bytes, method: bytes = b"GET") -> tuple[int, bytes]:
    """The status and body for a request target sent byte for byte (a client
    library would normalise ``..`` and ``%2e`` before sending)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(method + b" " + target + b" HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n")
        async with asyncio.timeout(5):
            answer = await reader.read()
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), body


@pytest.mark.parametrize(
    ("tail", "expected"),
    [
        ("", ("",)),
        ("a.js", ("a.js",)),
        ("dashboard/", ("dashboard", "")),
        ("a/b%20c.html", ("a", "b c.html")),
        ("%D0%B4.txt", ("д.txt",)),
        ("../x", None),
        ("a/../x", None),
        ("%2e%2e/x", None),
        ("%2E%2e", None),
        (".", None),
        ("./a", None),
        (".secret", None),
        ("a/.git/config", None),
        ("a//b", None),
        ("a%2Fb", None),
        ("..%2Fx", None),
        ("a%5C..%5Cb", None),
        ("a\\b", None),
        ("a%00.txt", None),
        ("a%0A.txt", None),
        ("a%7F", None),
        ("%ff.txt", None),
    ],
)
def test_segments_decode_each_part_and_refuse_the_unsafe(
    tail: str, expected: tuple[str, ...] | None
) -> None:
    assert segments(tail) == expected


@pytest.mark.parametrize(
    ("path", "content_type", "body"),
    [
        ("index.html", "text/html; charset=utf-8", b"<p>root</p>"),
        ("app/main.mjs", "text/javascript; charset=utf-8", b"export const x = 1;\n"),
        ("astman.js", "text/javascript; charset=utf-8", b"var astmanEngine;\n"),
        ("astman.css", "text/css; charset=utf-8", b"p { color: red }\n"),
        ("data.bin", "application/octet-stream", b"\x00\x01"),
        ("in.css", "text/css; charset=utf-8", b"p { color: red }\n"),  # a symlink inside
        ("app/up/astman.css", "text/css; charset=utf-8", b"p { color: red }\n"),
        ("", "text/html; charset=utf-8", b"<p>root</p>"),
        ("app/", "text/html; charset=utf-8", b"<p>app</p>"),
        ("app/main.mjs?v=2", "text/javascript; charset=utf-8", b"export const x = 1;\n"),
    ],
)
async def test_files_are_served_with_their_type_and_caching_headers(
    client: Client, path: str, content_type: str, body: bytes
) -> None:
    response = await client.get(f"/asterisk/static/{path}")
    assert response.status == 200
    assert await response.read() == body
    assert response.headers["Content-Type"] == content_type
    assert response.headers["Cache-Control"] == "no-cache"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Server"] == "ajam-gateway"
    assert response.headers["ETag"]
    assert response.headers["Last-Modified"]
    assert "Set-Cookie" not in response.headers


async def test_head_has_the_headers_and_no_body(client: Client) -> None:
    get = await client.get("/asterisk/static/astman.js")
    head = await client.head("/asterisk/static/astman.js")
    assert head.status == 200
    assert await head.read() == b""
    for name in ("Content-Type", "Content-Length", "ETag", "Last-Modified", "Cache-Control"):
        assert head.headers[name] == get.headers[name]


async def test_a_cached_copy_is_confirmed_with_304(client: Client, tmp_path: Path) -> None:
    first = await client.get("/asterisk/static/astman.js")
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    again = await client.get("/asterisk/static/astman.js", headers={"If-None-Match": etag})
    assert again.status == 304
    assert await again.read() == b""
    since = await client.get("/asterisk/static/astman.js", headers={"If-Modified-Since": modified})
    assert since.status == 304
    changed = tmp_path / "site" / "astman.js"
    changed.write_text("var astmanEngine = 2;\n")
    stat = changed.stat()
    os.utime(changed, ns=(stat.st_atime_ns, stat.st_mtime_ns + 2_000_000_000))
    fresh = await client.get("/asterisk/static/astman.js", headers={"If-None-Match": etag})
    assert fresh.status == 200
    assert await fresh.text() == "var astmanEngine = 2;\n"
    assert fresh.headers["ETag"] != etag


async def test_a_directory_without_its_slash_is_redirected_to_it(client: Client) -> None:
    response = await client.get("/asterisk/static/app", allow_redirects=False)
    assert response.status == 301
    assert response.headers["Location"] == "/asterisk/static/app/"


@pytest.mark.parametrize(
    "target",
    [
        b"/asterisk/static/missing.js",
        b"/asterisk/static/empty/",  # no index.html, and no listing
        b"/asterisk/static/astman.js/",
        b"/asterisk/static/.secret",
        b"/asterisk/static/.git/config",
        b"/asterisk/static/shown.txt",  # a symlink to a dotfile
        b"/asterisk/static/out.txt",  # a symlink out of the directory
        b"/asterisk/static/outdir/",
        b"/asterisk/static/outdir/index.html",
        b"/asterisk/static/app/../.secret",
        b"/asterisk/static/app/%2e%2e/.secret",
        b"/asterisk/static/app/..%2f..%2foutside.txt",
        b"/asterisk/static/app/%2e%2e/%2e%2e/outside.txt",
        b"/asterisk/static/..%5coutside.txt",
        b"/asterisk/static//etc/passwd",
        b"/asterisk/static/astman.js%00.png",
        b"/asterisk/static/%ff",
        b"/asterisk/%73tatic/astman.js",  # the raw path does not name static/
    ],
)
async def test_nothing_outside_or_hidden_is_served(client: Client, target: bytes) -> None:
    assert client.server.port is not None
    status, body = await raw_get(client.server.port, target)
    assert status == 404
    assert NOT_FOUND.encode() in body
    assert b"outside" not in body
    assert b"dotfile" not in body


@pytest.mark.parametrize("path", ["private/panel.html", "pub/panel.html"])
async def test_private_files_need_a_logged_in_session(client: Client, path: str) -> None:
    refused = await client.get(f"/asterisk/static/{path}")
    assert refused.status == 403
    assert "for logged-in users" not in await refused.text()
    wrong = await client.get(f"/asterisk/static/{path}", headers=basic("admin", "wrong"))
    assert wrong.status == 403
    bad = await client.get(f"/asterisk/static/{path}", headers={"Authorization": "Basic %%%"})
    assert bad.status == 403
    by_basic = await client.get(f"/asterisk/static/{path}", headers=basic("reader"))
    assert await by_basic.text() == "for logged-in users"
    session = await login(client, "reader")
    by_cookie = await client.get(
        f"/asterisk/static/{path}", headers={"Cookie": f'mansession_id="{session}"'}
    )
    assert by_cookie.status == 200
    assert by_cookie.headers["Cache-Control"] == "private, no-cache"
    by_parameter = await client.get(f"/asterisk/static/{path}?mansession_id={session}")
    assert by_parameter.status == 200


async def test_the_404_page_is_the_one_every_unknown_path_gets(client: Client) -> None:
    unknown = await client.get("/asterisk/nothing-here")
    missing = await client.get("/asterisk/static/nothing-here")
    assert missing.status == unknown.status == 404
    assert await missing.text() == await unknown.text()
    assert missing.headers["Content-Type"] == unknown.headers["Content-Type"]


async def test_other_methods_get_501(client: Client) -> None:
    response = await client.post("/asterisk/static/astman.js", data=b"x")
    assert response.status == 501


async def test_without_static_dir_the_packaged_dashboard_is_served(
    simulator: Simulator, aiohttp_client: MakeClient
) -> None:
    client = await start(simulator, aiohttp_client)
    page = await client.get("/asterisk/static/dashboard/")
    assert page.status == 200
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    html = await page.text()
    assert '<script type="module" src="dashboard.mjs">' in html
    script = await client.get("/asterisk/static/dashboard/dashboard.mjs")
    assert script.headers["Content-Type"] == "text/javascript; charset=utf-8"
    style = await client.get("/asterisk/static/dashboard/dashboard.css")
    assert style.headers["Content-Type"] == "text/css; charset=utf-8"
    redirect = await client.get("/asterisk/static/dashboard", allow_redirects=False)
    assert redirect.headers["Location"] == "/asterisk/static/dashboard/"
    assert (await client.get("/asterisk/static/")).status == 404
    assert (await client.get("/asterisk/static/ajamdemo.html")).status == 404


async def test_static_dir_replaces_the_packaged_pages(client: Client) -> None:
    assert (await client.get("/asterisk/static/dashboard/")).status == 404


async def test_the_static_path_follows_the_prefix(
    simulator: Simulator, aiohttp_client: MakeClient, tmp_path: Path
) -> None:
    client = await start(
        simulator, aiohttp_client, http={"prefix": "", "static_dir": str(tree(tmp_path))}
    )
    assert await (await client.get("/static/astman.js")).text() == "var astmanEngine;\n"
    assert (await client.get("/asterisk/static/astman.js")).status == 404


def test_the_package_holds_the_dashboard() -> None:
    names = {path.name for path in (package_static() / "dashboard").iterdir()}
    assert {"index.html", "dashboard.mjs", "dashboard.css"} <= names
