from __future__ import annotations

import re

import pytest

from tests.deploy.support import CHECKOUT_GATEWAY, checkout_env, free_port, get, running

SUFFIXES = {"histogram": ("_bucket", "_sum", "_count"), "summary": ("_sum", "_count")}


@pytest.fixture(scope="session")
def exported_names(tmp_path_factory: pytest.TempPathFactory) -> frozenset[str]:
    """Every series name this checkout's gateway exposes at /metrics, read
    from a running demo (with call history) after one failed login, so that
    the labelled login counter has a sample too."""
    port = free_port()
    log = tmp_path_factory.mktemp("metrics") / "gateway.log"
    argv = (*CHECKOUT_GATEWAY, "--demo", "--port", str(port))
    with running(argv, port, log, env=checkout_env()) as base:
        status, _ = get(f"{base}/asterisk/rawman?action=login&username=admin&secret=wrong")
        assert status == 200
        status, text = get(f"{base}/metrics")
    assert status == 200
    return frozenset(series_names(text))


def series_names(exposition: str) -> set[str]:
    """Names declared by ``# TYPE`` (with a histogram's own series) and sampled."""
    names: set[str] = set()
    for name, kind in re.findall(r"^# TYPE (\S+) (\S+)$", exposition, re.M):
        names.add(name)
        names.update(name + suffix for suffix in SUFFIXES.get(kind, ()))
    names.update(re.findall(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]", exposition, re.M))
    return names
