"""Issue 11, item 5: Command is decided on what Asterisk's CLI will run.

Asterisk's CLI (main/cli.c parse_args) strips quotes and backslashes and
splits on runs of blanks before it looks a command up, case-insensitively;
a text deny-list let ``"core" stop now`` through.  Each user now has an
allowlist of command prefixes (``commands_allow``, read-only by default),
matched on whole words of the tokenised command.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest

from gateway.cli_tools import check_config_report
from gateway.clitokens import (
    AST_MAX_ARGS,
    DEFAULT_PREFIXES,
    allowed_prefix,
    cli_args,
    parse_prefix,
)
from gateway.configusers import UserConfig, parse_user
from gateway.errors import ConfigError
from gateway.expressions import dynamic_name
from gateway.simulator import Simulator
from tests.harness import MakeClient, gateway_config, login, rawman, start

DENIED = "Response: Error\r\nMessage: Permission denied\r\n\r\n"

ATTACKS = [
    '"core" stop now',
    'core "stop" now',
    "mod\\ule unload x",
    "mod\\ule load chan_foo.so",
    "core  stop\tnow",
    "CORE STOP NOW",
    "\\core stop now",
    'c"or"e restart now',
    "channel originate Local/100@test application System id",
    "channel originate Local/100@test application Exec System(id)",
    "dialplan add extension 1,1,System(id) into test",
    "core show\\ version",  # one word "show version": not "core show"
    "module unload res_pjsip.so",
    "restart now",
    "database put a b c",
]


def command_sent(simulator: Simulator) -> bool:
    return any((m.get("Action") or "").lower() == "command" for m in simulator.received)


@pytest.mark.parametrize("command", ATTACKS)
async def test_cli_attacks_never_reach_asterisk(
    simulator: Simulator, aiohttp_client: MakeClient, command: str
) -> None:
    client = await start(simulator, aiohttp_client)
    session = await login(client)  # write=all, no commands_allow: the read-only default
    body = await rawman(client, session, f"action=command&command={quote(command)}")
    assert body == DENIED
    assert not command_sent(simulator)


@pytest.mark.parametrize(
    "command",
    ["core show version", "CORE SHOW version", 'core "show" version', "  core   show\tversion"],
)
async def test_read_only_commands_run_however_they_are_spelled(
    simulator: Simulator, aiohttp_client: MakeClient, command: str
) -> None:
    client = await start(simulator, aiohttp_client)
    session = await login(client)
    body = await rawman(client, session, f"action=command&command={quote(command)}")
    assert body.startswith("Response: Success\r\nMessage: Command output follows\r\n"), body
    assert command_sent(simulator)


@pytest.mark.parametrize(
    ("fields", "refused"),
    [
        ("application=NoOp&data=%24%7BS%24%7BX%7DHELL(id)%7D", True),  # ${S${X}HELL(id)}
        ("application=NoOp&data=%24%7BSHELL(id)%7D", True),  # ${SHELL(id)}
        ("application=NoOp&data=%24%7B%24%7BX%7D%7D", True),  # ${${X}}
        ("application=NoOp&data=%24%5BS%24%7BX%7DHELL(id)%5D", True),  # $[S${X}HELL(id)]
        ("application=NoOp&data=%24%5B%24%7BX%7D(id)%5D", True),  # $[${X}(id)]
        ("application=NoOp&data=%24%7BCUT(%24%7BX%7D%2C-%2C1)%7D", False),  # ${CUT(${X},-,1)}
        ("application=NoOp&data=%24%5B%24%7BX%7D%20%2B%201%5D", False),  # $[${X} + 1]
        ("exten=100&context=test&priority=1&variable=A%3D%24%7BS%24%7BX%7DHELL(id)%7D", True),
    ],
)
async def test_expressions_whose_function_name_is_built_are_refused(
    simulator: Simulator, aiohttp_client: MakeClient, fields: str, refused: bool
) -> None:
    client = await start(simulator, aiohttp_client)
    session = await login(client)
    body = await rawman(client, session, f"action=originate&channel=Local/100@test&{fields}")
    sent = any((m.get("Action") or "").lower() == "originate" for m in simulator.received)
    assert (body == DENIED) is refused, body
    assert sent is not refused


async def test_dynamic_names_in_dialplan_data_are_refused(
    simulator: Simulator, aiohttp_client: MakeClient
) -> None:
    client = await start(simulator, aiohttp_client)
    session = await login(client)
    query = (
        "action=dialplanextensionadd&context=test&extension=9&priority=1&application=NoOp"
        "&applicationdata=%24%7BS%24%7BX%7DHELL(touch%20%2Ftmp%2Fx)%7D"
    )
    assert await rawman(client, session, query) == DENIED


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('"core" stop now', ("core", "stop", "now")),
        ("mod\\ule unload x", ("module", "unload", "x")),
        ("  core \t show", ("core", "show")),
        ('"" ""', ("", "")),  # an opened quote starts a word, even an empty one
        ("a\\ b c", ("a b", "c")),
        ('say \\"hi\\"', ("say", '"hi"')),
        ('"a b"c d', ("a bc", "d")),
        ("core\vshow", ("core\vshow",)),  # only space and tab separate words
        ("\n\fcore show", ("core", "show")),  # leading isspace() is skipped
        ("x\\", ("x",)),
    ],
)
def test_words_as_asterisks_parse_args(text: str, words: tuple[str, ...]) -> None:
    assert cli_args(text) == words


def test_parse_args_keeps_63_words_and_one_byte_of_the_last() -> None:
    words = cli_args(" ".join(["word"] * 70))
    assert len(words) == AST_MAX_ARGS - 1
    assert words[-1] == "w"


def test_prefixes_match_whole_words_case_insensitively() -> None:
    prefixes = (parse_prefix("core  SHOW"), parse_prefix("dialplan show"))
    assert prefixes[0] == ("core", "show")
    assert allowed_prefix(("CORE", "show", "channels"), prefixes) == ("core", "show")
    assert allowed_prefix(("core", "showx"), prefixes) is None
    assert allowed_prefix(("core",), prefixes) is None
    assert allowed_prefix(("core", "Sｈow"), prefixes) is None  # ASCII folding only


ESCAPE_HATCH: dict[str, dict[str, Any]] = {
    "ops": {
        "secret": "ops-secret",
        "read": "all",
        "write": "all",
        "commands_allow": ["core show", "channel originate", "dialplan add"],
    },
    "root": {"secret": "root-secret", "read": "all", "write": "all", "actions_allow": ["Command"]},
}


@pytest.mark.parametrize(
    ("user", "command", "runs"),
    [
        ("ops", "channel originate Local/100@test extension 100@test", True),
        ("ops", "channel originate Local/100@test application System id", False),
        ("ops", "channel originate Local/100@test application TrySystem id", False),
        ("ops", "dialplan add extension 1,1,System(id) into test", False),
        ("ops", "dialplan add extension 1,1,NoOp(${S${X}HELL(id)}) into test", False),
        ("ops", "dialplan add extension 1,1,NoOp(hi) into test", True),
        ("ops", "pjsip show endpoints", False),  # not in this user's list
        ("root", "module unload res_pjsip.so", True),  # actions_allow names Command
    ],
)
async def test_commands_allow_and_the_escape_hatch(
    simulator: Simulator, aiohttp_client: MakeClient, user: str, command: str, runs: bool
) -> None:
    client = await start(simulator, aiohttp_client, users=ESCAPE_HATCH)
    session = await login(client, user)
    body = await rawman(client, session, f"action=command&command={quote(command)}")
    assert (body != DENIED) is runs, body
    assert command_sent(simulator) is runs


@pytest.mark.parametrize(
    ("text", "built"),
    [
        ("${S${X}HELL(id)}", "${S${X}HELL(id)}"),
        ("x ${X${Y}:1} y", "${X${Y}:1}"),  # the name before ':' is built
        ("${X:${Y}}", None),  # only the offset is built: never a call
        ("$[$[1+1]+${X}]", None),  # nested $[ counts its own bracket
        ("$[${X}${Y}]", "$[${X}${Y}]"),  # two expansions make one name
        ("$[A${X}]", "$[A${X}]"),
        ("$[${X}]", None),
        ("${S${X}HELL(id)", "${S${X}HELL(id)"),  # unclosed: Asterisk reads to the end
    ],
)
def test_dynamic_names(text: str, built: str | None) -> None:
    assert dynamic_name(text) == built


def test_commands_allow_in_the_config_and_check_config() -> None:
    user = parse_user("u", {"secret": "s", "commands_allow": ["core show", 'sip  "show"']}, {})
    assert user.commands_allow == (("core", "show"), ("sip", "show"))
    assert UserConfig(name="d").commands_allow == DEFAULT_PREFIXES
    with pytest.raises(ConfigError, match=r"\[users.u\] commands_allow: '  ' has no words"):
        parse_user("u", {"secret": "s", "commands_allow": ["  "]}, {})
    quiet = {"secret": "q", "write": "command", "commands_allow": []}
    config = gateway_config(5038, users={**ESCAPE_HATCH, "quiet": quiet})
    report, _ = check_config_report(config)
    assert "  commands_allow: core show, channel originate, dialplan add\n" in report
    assert "  commands_allow: any (actions_allow names Command)\n" in report
    assert "  commands_allow: core show, pjsip show, sip show," in report  # the default
    assert "  commands_allow: none\n" in report
    assert "  commands_allow: none (write has no command class)\n" in report
