"""Runs the system under test in its own process and prints its port.

``python3 -m bench.server gateway CONFIG.toml [--uvloop] [--profile OUT]``
serves the real gateway app (``gateway.app.create_app``) from a config file;
``python3 -m bench.server bare`` serves a bare aiohttp handler that answers
what a rawman Ping answers, the baseline the gateway's overhead is a ratio
of.  Both listen on an ephemeral port, print ``PORT <n>`` and run until
SIGTERM.  Neither writes an access log, so both pay the same.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import Callable

from aiohttp import web

from bench.procstat import raise_nofile

PONG = b"Response: Success\r\nPing: Pong\r\nTimestamp: 0.000000\r\n\r\n"


async def hello(request: web.Request) -> web.Response:
    return web.Response(body=PONG, content_type="text/plain", charset="utf-8")


def bare_app() -> web.Application:
    app = web.Application()
    app.router.add_get("/{tail:.*}", hello)
    return app


def gateway_app(path: str) -> web.Application:
    from gateway.app import create_app
    from gateway.config import load_config

    return create_app(load_config(path))


async def serve(make_app: Callable[[], web.Application]) -> None:
    runner = web.AppRunner(make_app(), handle_signals=False, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, backlog=4096)
    await site.start()
    print(f"PORT {runner.addresses[0][1]}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.server")
    parser.add_argument("kind", choices=["gateway", "bare"])
    parser.add_argument("config", nargs="?")
    parser.add_argument("--uvloop", action="store_true")
    parser.add_argument("--profile", help="write a pyinstrument HTML profile here on exit")
    args = parser.parse_args(argv)
    raise_nofile()
    if args.kind == "gateway":
        config = args.config
        if config is None:
            parser.error("gateway needs a config file")

        def make_app() -> web.Application:
            return gateway_app(config)
    else:
        make_app = bare_app
    runner_args: dict[str, object] = {}
    if args.uvloop:
        import uvloop

        runner_args["loop_factory"] = uvloop.new_event_loop
    profiler = None
    if args.profile:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0005, async_mode="disabled")
        profiler.start()
    try:
        with asyncio.Runner(**runner_args) as runner:  # type: ignore[arg-type]
            runner.run(serve(make_app))
    finally:
        if profiler is not None:
            profiler.stop()
            with open(args.profile, "w") as file:
                file.write(profiler.output_html())
            with open(args.profile + ".txt", "w") as file:
                file.write(profiler.output_text(unicode=False, show_all=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
