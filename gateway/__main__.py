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
import os
import signal
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Final

from aiohttp import web
from aiohttp.log import access_logger as access_log

from gateway.app import GATEWAY, create_app
from gateway.cli.envfile import load_env_files
from gateway.cli.listen import listening
from gateway.cli.report import check_config_report, history_path
from gateway.cli.secrets import ha1_line, hash_line, read_secret
from gateway.cli.version import version_line
from gateway.config import (
    Config,
    check_node_id,
    check_realm,
    check_user_name,
    demo_config,
    load_config,
)
from gateway.config.http import DIGEST_REALM
from gateway.errors import ConfigError, StartupError
from gateway.history.location import write_problem
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


LOG_LEVELS: Final = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ajam-gateway", description=__doc__)
    parser.add_argument("--version", action="version", version=version_line())
    parser.add_argument("--config", help="TOML configuration file")
    parser.add_argument("--demo", action="store_true", help="run against the embedded simulator")
    parser.add_argument("--host", help="listen address (overrides [http] host)")
    parser.add_argument("--port", type=int, help="listen port (overrides [http] port)")
    parser.add_argument("--node-id", help="node id for session ids (overrides [http] node_id)")
    parser.add_argument(
        "--log-level", type=str.upper, choices=LOG_LEVELS, default="INFO", help="default INFO"
    )
    sub = parser.add_subparsers(dest="command")
    check = sub.add_parser("check-config", help="validate a config and show what each user may do")
    check.add_argument("path")
    _env_file_option(check)
    check.add_argument(
        "--node-id",
        default=argparse.SUPPRESS,
        help="the node id the service runs with (ajam-gateway@ID.service passes --node-id ID)",
    )
    sub.add_parser(
        "hash-secret",
        help="read a secret (asked twice on a terminal, else one line on stdin), print secret_hash",
    )
    ha1 = sub.add_parser(
        "digest-ha1", help="read a secret as hash-secret does, print digest_ha1 for USER"
    )
    ha1.add_argument("user", metavar="USER")
    realm = ha1.add_mutually_exclusive_group()
    realm.add_argument("--realm", help=f"the Digest realm (default {DIGEST_REALM})")
    realm.add_argument(
        "--config",
        default=argparse.SUPPRESS,
        help="take the realm ([http] digest_realm) and USER's spelling from this config",
    )
    _env_file_option(ha1)
    return parser


def _env_file_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--env-file",
        action="append",
        default=[],
        metavar="FILE",
        help="take secret_env/password_env variables from this systemd EnvironmentFile, and"
        " only from such files, as the service gets them (repeatable, a later file wins;"
        " --env-file=-FILE may be missing)",
    )


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
    try:
        await runner.setup()
        app[GATEWAY].metrics.watch_connections(runner.counts)
        await _listen(runner, config.http.host, config.http.port)
        if demo:
            http = config.http
            print(
                DEMO_BANNER.format(host=http.host, port=http.port, prefix=http.prefix), flush=True
            )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        loop.add_signal_handler(signal.SIGHUP, _reload, app, reload, runner)
        await stop.wait()
        await drain(app[GATEWAY], config.http.drain_time)
    finally:
        await runner.cleanup()  # stops listening, then logs off AMI
        if simulator is not None:
            await simulator.stop()


async def _listen(runner: web.BaseRunner, host: str, port: int) -> None:
    """Open the HTTP port; a failure is one line naming the port and its usual holder."""
    with listening(
        "HTTP",
        host,
        port,
        host_setting="[http] host (or --host)",
        port_setting="[http] port (or --port)",
    ):
        await web.TCPSite(runner, host, port).start()


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
    logging.basicConfig(level=args.log_level, format=TEXT_FORMAT)
    try:
        if args.command == "hash-secret":
            print(hash_line(read_secret(sys.stdin)))
        elif args.command == "digest-ha1":
            _digest_ha1(args)
        elif args.command == "check-config":
            _check_config(args)
        else:
            _run(args)
    except ConfigError as error:
        print(f"ajam-gateway: {error}", file=sys.stderr)
        return 2
    except StartupError as error:
        print(f"ajam-gateway: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # Ctrl-C at a secret's prompt
        print(file=sys.stderr)
        return 130
    return 0


def _run(args: argparse.Namespace) -> None:
    demo = args.demo or args.config is None
    source = None if args.config is None else _config_source(args.config, args)
    # The file's source applies the overrides itself (for SIGHUP too).
    config = _with_overrides(demo_config(), args) if source is None else source()
    use_format(config.log.format)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(config, demo=demo, reload=source))


def _environment(env_files: Sequence[str]) -> Mapping[str, str]:
    """The variables a config's ``secret_env`` names are read from: the files
    only when given (the service sees nothing of this shell), else this process's."""
    if not env_files:
        return os.environ
    loaded = load_env_files(env_files)
    for warning in loaded.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return loaded.variables


def _check_config(args: argparse.Namespace) -> None:
    config = _with_overrides(load_config(args.path, _environment(args.env_file)), args)
    report, warnings = check_config_report(config)
    print(report)
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    path = history_path(config)
    problem = None if path is None else write_problem(path)
    if problem is not None:
        raise ConfigError(problem)


def _digest_ha1(args: argparse.Namespace) -> None:
    name = check_user_name(args.user, "USER")
    realm = DIGEST_REALM if args.realm is None else check_realm(args.realm)
    if getattr(args, "config", None) is not None:
        config = load_config(args.config, _environment(args.env_file))
        user = config.user(name)
        if user is None:
            raise ConfigError(f"{args.config}: no [users.{name}] table")
        name = user.name  # the HA1 is bound to the name as the config spells it
        realm = config.http.digest_realm if args.realm is None else realm
        if user.secret is not None:
            print(f"warning: {name} has a plain secret: digest_ha1 is ignored", file=sys.stderr)
    print(ha1_line(name, realm, read_secret(sys.stdin)))


if __name__ == "__main__":
    sys.exit(main())
