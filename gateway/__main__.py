"""The ``ajam-gateway`` command line.

``ajam-gateway`` with no config runs the demo: the gateway against the
embedded simulated PBX, so that a newcomer sees it work at once.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import logging
import signal
import sys
from collections.abc import Callable, Sequence
from typing import Final

from aiohttp import web
from aiohttp.log import access_logger as access_log

from gateway.app import GATEWAY, create_app
from gateway.cli import check_config_report, hash_secret_cli
from gateway.config import Config, check_node_id, demo_config, load_config
from gateway.errors import ConfigError
from gateway.http.accesslog import AccessLogger
from gateway.http.server import GatewayRunner
from gateway.lifecycle import drain, reload_config
from gateway.logs import TEXT_FORMAT, use_format
from gateway.simulator import Simulator

log = logging.getLogger("gateway")

DEMO_BANNER = """\
ajam-gateway demo: a simulated Asterisk is running in-process.
  users: admin/admin (read=all, write=all), reader/reader (read=call,system)
  try:   curl -c /tmp/ajam.txt 'http://{host}:{port}{prefix}/rawman?action=login&username=admin&secret=admin'
         curl -b /tmp/ajam.txt 'http://{host}:{port}{prefix}/rawman?action=ping'
         curl -u admin:admin 'http://{host}:{port}{prefix}/history?number=2001&limit=5'
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ajam-gateway", description=__doc__)
    parser.add_argument("--config", help="TOML configuration file")
    parser.add_argument("--demo", action="store_true", help="run against the embedded simulator")
    parser.add_argument("--host", help="listen address (overrides [http] host)")
    parser.add_argument("--port", type=int, help="listen port (overrides [http] port)")
    parser.add_argument("--node-id", help="node id for session ids (overrides [http] node_id)")
    parser.add_argument("--log-level", default="INFO", help="logging level (default INFO)")
    sub = parser.add_subparsers(dest="command")
    check = sub.add_parser("check-config", help="validate a config and show what each user may do")
    check.add_argument("path")
    sub.add_parser("hash-secret", help="read a secret on stdin, print a secret_hash line")
    return parser


def _with_overrides(config: Config, args: argparse.Namespace) -> Config:
    if args.node_id is not None:
        check_node_id(args.node_id)
    changes = {
        key: value
        for key, value in (("host", args.host), ("port", args.port), ("node_id", args.node_id))
        if value is not None
    }
    if not changes:
        return config
    return dataclasses.replace(config, http=dataclasses.replace(config.http, **changes))


SHUTDOWN_GRACE: Final = 1.0
"""After the drain, requests still running get this long before they are cancelled."""

ConfigSource = Callable[[], Config]
"""Reads the configuration again (SIGHUP); None when there is no file."""


def _config_source(path: str, args: argparse.Namespace) -> ConfigSource:
    return lambda: _with_overrides(load_config(path), args)


async def serve(config: Config, *, demo: bool, reload: ConfigSource | None = None) -> None:
    simulator: Simulator | None = None
    if demo:
        simulator = Simulator(call_events=0.2)
        port = await simulator.start("127.0.0.1", 0)
        config = dataclasses.replace(config, ami=dataclasses.replace(config.ami, port=port))
    app = create_app(config)
    runner = GatewayRunner(
        app,
        limits=config.limits,
        trusted_proxies=config.http.trusted_proxies,
        handle_signals=False,
        access_log_class=AccessLogger,
        access_log=access_log if config.log.access else None,
        shutdown_timeout=SHUTDOWN_GRACE,
    )
    await runner.setup()
    app[GATEWAY].metrics.watch_connections(runner.counts)
    site = web.TCPSite(runner, config.http.host, config.http.port)
    await site.start()
    if demo:
        http = config.http
        print(DEMO_BANNER.format(host=http.host, port=http.port, prefix=http.prefix), flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    loop.add_signal_handler(signal.SIGHUP, _reload, app, reload, runner)
    try:
        await stop.wait()
        await drain(app[GATEWAY], config.http.drain_time)
    finally:
        await runner.cleanup()  # stops listening, then logs off AMI
        if simulator is not None:
            await simulator.stop()


def _reload(
    app: web.Application, source: ConfigSource | None, runner: GatewayRunner | None = None
) -> None:
    """SIGHUP: users and limits from the file again; a bad file changes nothing."""
    if source is None:
        log.warning("SIGHUP ignored: no --config file to reload")
        return
    try:
        config = source()
    except ConfigError as error:
        log.error("reload refused, the running configuration stays: %s", error)
        return
    for warning in reload_config(app, config):
        log.warning("reload: %s", warning)
    if runner is not None:
        runner.configure(config.limits)  # the connection limits and timeouts


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format=TEXT_FORMAT)
    try:
        if args.command == "hash-secret":
            print(hash_secret_cli(sys.stdin.read()))
            return 0
        if args.command == "check-config":
            report, warnings = check_config_report(load_config(args.path))
            print(report)
            for warning in warnings:
                print(f"warning: {warning}", file=sys.stderr)
            return 0
        demo = args.demo or args.config is None
        source = None if args.config is None else _config_source(args.config, args)
        # The file's source applies the overrides itself (for SIGHUP too).
        config = _with_overrides(demo_config(), args) if source is None else source()
        use_format(config.log.format)
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(serve(config, demo=demo, reload=source))
    except ConfigError as error:
        print(f"ajam-gateway: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
