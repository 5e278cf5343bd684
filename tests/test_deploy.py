"""The nginx file in deploy/ agrees with the gateway's contracts (it also runs
on real nginx in ``test_nginx.py``; the rest of deploy/ is tested in
``tests/deploy/``)."""

from __future__ import annotations

import re
import secrets

import pytest

from gateway.config import Config, check_node_id
from tests.nginxproc import INSTANCES, SHIPPED


def upstream_servers(name: str) -> list[tuple[str, bool]]:
    """(address, is a backup) for each server of an upstream block."""
    block = re.search(rf"upstream {name} \{{(.*?)\}}", SHIPPED.read_text(), re.S)
    assert block is not None, name
    lines = re.findall(r"^\s*server (\S+?)((?: \S+)*);$", block.group(1), re.M)
    return [(address, "backup" in flags.split()) for address, flags in lines]


def test_every_node_has_its_upstream_with_the_others_as_backup() -> None:
    text = SHIPPED.read_text()
    mapped = dict(re.findall(r"^\s+([a-z0-9]+)\s+(ajam_node_[a-z0-9]+);$", text, re.M))
    assert mapped == {node: f"ajam_node_{node}" for node in INSTANCES}
    everyone = sorted((address, False) for address in INSTANCES.values())
    assert sorted(upstream_servers("ajam_all")) == everyone
    for node, address in INSTANCES.items():
        own, *backups = upstream_servers(f"ajam_node_{node}")
        assert own == (address, False)
        assert sorted(backups) == sorted((a, True) for n, a in INSTANCES.items() if n != node)


def test_the_session_regex_is_the_contracts() -> None:
    contract = r"^\"?(?<ajam_cnode>[a-z0-9]*)[0-9a-f]{32}\"?$"
    assert contract in SHIPPED.read_text()
    pattern = re.compile(contract.replace("\\", "").replace("?<", "?P<"))
    session = "b" + secrets.token_hex(16)
    for cookie in (session, f'"{session}"'):
        match = pattern.match(cookie)
        assert match is not None
        assert match.group("ajam_cnode") == "b"


def test_long_polls_outlast_the_waitevent_cap() -> None:
    text = SHIPPED.read_text()
    read = re.search(r"proxy_read_timeout (\d+)s;", text)
    assert read is not None
    assert int(read.group(1)) > Config().waitevent_cap() + 60  # and a long sync Originate
    for directive in (
        "proxy_buffering off;",
        "proxy_http_version 1.1;",
        'proxy_set_header Connection "";',
        "proxy_next_upstream error timeout http_503;",
    ):
        assert directive in text


@pytest.mark.parametrize("node", list(INSTANCES))
def test_the_shipped_node_ids_are_valid_instance_names(node: str) -> None:
    assert check_node_id(node) == node
