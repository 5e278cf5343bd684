"""Headless Chromium for the browser tests (Debian's ``chromium``; ``.ci/run``
installs it; nothing is downloaded).

``chromium(url, profile)`` just opens a page that reports by itself
(tests/e2e/test_browser.py).  ``devtools(profile)`` starts Chromium with its
DevTools protocol on an ephemeral port (read from ``DevToolsActivePort`` in
the profile) and speaks it over a WebSocket with aiohttp: ``open_page``
opens a tab, ``Page.evaluate`` runs an expression in it and ``Page.until``
waits for one to be true.  Pages are driven as a user would (typing,
clicking), and read through the DOM.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, Final

from aiohttp import ClientSession, ClientWebSocketResponse, WSMsgType

CHROMIUM: Final = shutil.which("chromium")
CHROMIUM_FLAGS: Final = (
    "--headless",
    "--no-sandbox",  # CI runs as root, where the sandbox cannot start
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
STARTUP_TIMEOUT: Final = 30.0
"""Chromium's first start on a loaded CI machine takes seconds."""


@contextlib.asynccontextmanager
async def chromium(url: str, profile: Path, *flags: str) -> AsyncIterator[None]:
    """Chromium showing ``url``, its output in ``chromium.log`` beside the profile."""
    assert CHROMIUM is not None
    log = (profile.parent / "chromium.log").open("wb")
    process = await asyncio.create_subprocess_exec(
        CHROMIUM, *CHROMIUM_FLAGS, *flags, f"--user-data-dir={profile}", url, stdout=log, stderr=log
    )
    try:
        yield
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()
        log.close()


class DevToolsError(AssertionError):
    """The browser answered a command with an error, or a page script threw."""


class DevTools:
    """One WebSocket to the browser; commands by id, events kept per session."""

    def __init__(self, socket: ClientWebSocketResponse) -> None:
        self.socket = socket
        self.ids = itertools.count(1)
        self.waiting: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.console: list[str] = []
        """Console messages and uncaught exceptions of every page, for failure messages."""
        self.loaded: dict[str, asyncio.Event] = {}
        """Per page session: set by its load event."""
        self.reader = asyncio.create_task(self._read(), name="devtools-reader")

    async def send(self, method: str, session: str | None = None, **params: Any) -> Any:
        number = next(self.ids)
        future = asyncio.get_running_loop().create_future()
        self.waiting[number] = future
        message: dict[str, Any] = {"id": number, "method": method, "params": params}
        if session is not None:
            message["sessionId"] = session
        await self.socket.send_str(json.dumps(message))
        answer = await future
        if "error" in answer:
            raise DevToolsError(f"{method}: {answer['error']}")
        return answer.get("result", {})

    async def _read(self) -> None:
        async for frame in self.socket:
            if frame.type is not WSMsgType.TEXT:
                break
            message = json.loads(frame.data)
            future = self.waiting.pop(message.get("id", 0), None)
            if future is not None and not future.done():
                future.set_result(message)
            else:
                self._event(message)
        for future in self.waiting.values():
            if not future.done():
                future.set_exception(DevToolsError("the browser closed its DevTools socket"))

    def _event(self, message: dict[str, Any]) -> None:
        params = message.get("params", {})
        if message.get("method") == "Page.loadEventFired":
            self.loaded.setdefault(message.get("sessionId", ""), asyncio.Event()).set()
        elif message.get("method") == "Runtime.consoleAPICalled":
            words = [str(arg.get("value", arg.get("description", ""))) for arg in params["args"]]
            self.console.append(f"console.{params['type']}: {' '.join(words)}")
        elif message.get("method") == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            thrown = details.get("exception", {}).get("description", details.get("text"))
            self.console.append(f"exception: {thrown}")

    async def open_page(self, url: str) -> Page:
        target = await self.send("Target.createTarget", url="about:blank")
        target_id = target["targetId"]
        attached = await self.send("Target.attachToTarget", targetId=target_id, flatten=True)
        page = Page(self, attached["sessionId"])
        await self.send("Runtime.enable", page.session)
        await self.send("Page.enable", page.session)
        await page.go(url)
        return page

    async def close(self) -> None:
        await self.socket.close()
        await self.reader


class Page:
    """One tab."""

    def __init__(self, tools: DevTools, session: str) -> None:
        self.tools = tools
        self.session = session

    async def go(self, url: str, timeout: float = 10.0) -> None:
        """Navigates and waits for the page's load event."""
        loaded = self.tools.loaded.setdefault(self.session, asyncio.Event())
        loaded.clear()
        await self.tools.send("Page.navigate", self.session, url=url)
        async with asyncio.timeout(timeout):
            await loaded.wait()

    async def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression (awaited if it is a promise)."""
        result = await self.tools.send(
            "Runtime.evaluate",
            self.session,
            expression=expression,
            returnByValue=True,
            awaitPromise=True,
        )
        if "exceptionDetails" in result:
            raise DevToolsError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def until(self, expression: str, timeout: float = 10.0, interval: float = 0.02) -> Any:
        """Polls ``expression`` until it is truthy; its value. On timeout the
        assertion names the expression, its last value and the console."""
        value: Any = None
        try:
            async with asyncio.timeout(timeout):
                while not (value := await self.evaluate(expression)):
                    await asyncio.sleep(interval)
        except TimeoutError:
            raise AssertionError(
                f"not true after {timeout} s: {expression}\nlast value: {value!r}\n"
                + "\n".join(self.tools.console[-30:])
            ) from None
        return value

    async def until_equal(self, expression: str, expected: Any, timeout: float = 10.0) -> None:
        """Polls ``expression`` until its value equals ``expected``."""
        value: Any = None
        try:
            async with asyncio.timeout(timeout):
                while (value := await self.evaluate(expression)) != expected:
                    await asyncio.sleep(0.02)
        except TimeoutError:
            raise AssertionError(
                f"{expression}\nis {value!r}\nnot {expected!r} after {timeout} s\n"
                + "\n".join(self.tools.console[-30:])
            ) from None

    async def type_into(self, selector: str, text: str) -> None:
        """Focuses the field and types ``text`` as keyboard input."""
        await self.evaluate(f"document.querySelector({json.dumps(selector)}).focus()")
        await self.tools.send("Input.insertText", self.session, text=text)

    async def click(self, selector: str) -> None:
        await self.evaluate(f"document.querySelector({json.dumps(selector)}).click()")


async def _endpoint(profile: Path, process: asyncio.subprocess.Process) -> str:
    """The browser's WebSocket URL, once Chromium has written it."""
    port_file = profile / "DevToolsActivePort"
    async with asyncio.timeout(STARTUP_TIMEOUT):
        while True:
            if process.returncode is not None:
                raise AssertionError(f"chromium exited with {process.returncode}")
            lines = port_file.read_text().split() if port_file.exists() else []
            if len(lines) == 2:
                return f"ws://127.0.0.1:{lines[0]}{lines[1]}"
            await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def devtools(profile: Path) -> AsyncIterator[DevTools]:
    """Chromium with its DevTools protocol on 127.0.0.1 (an ephemeral port)."""
    assert CHROMIUM is not None
    log = (profile.parent / "chromium.log").open("wb")
    process = await asyncio.create_subprocess_exec(
        CHROMIUM,
        *CHROMIUM_FLAGS,
        "--remote-debugging-address=127.0.0.1",
        "--remote-debugging-port=0",
        f"--user-data-dir={profile}",
        "about:blank",
        stdout=log,
        stderr=log,
    )
    try:
        url = await _endpoint(profile, process)
        async with ClientSession() as http, http.ws_connect(url, max_msg_size=0) as socket:
            tools = DevTools(socket)
            try:
                yield tools
            finally:
                await tools.close()
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()
        log.close()
