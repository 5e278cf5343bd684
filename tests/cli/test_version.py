"""--version names the version in pyproject.toml (the one place it is
written): from the checkout it runs from, else from pip's metadata; and
--log-level takes only a logging level."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

from gateway.__main__ import build_parser
from gateway.cli.version import checkout_version, installed_version, version
from tests.support.clirun import gateway
from tests.support.procs import ROOT

PYTHON = ".".join(str(part) for part in sys.version_info[:3])


def pyproject_version() -> str:
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert isinstance(version, str)
    return version


def test_version_of_this_checkout() -> None:
    result = gateway("--version")
    assert result.returncode == 0
    assert result.stdout == f"ajam-gateway {pyproject_version()} (Python {PYTHON})\n"
    assert pyproject_version() == "0.2.0"


def test_an_installed_copy_reads_pips_metadata(tmp_path: Path) -> None:
    package = tmp_path / "site-packages" / "gateway"
    package.mkdir(parents=True)
    assert checkout_version(package) is None
    assert version(package) == (installed_version() or "unknown")
    assert installed_version("ajam-gateway-never-installed") is None


def test_another_projects_pyproject_is_not_ours(tmp_path: Path) -> None:
    (tmp_path / "gateway").mkdir()
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[project]\nname = "something-else"\nversion = "9.9"\n')
    assert checkout_version(tmp_path / "gateway") is None
    pyproject.write_text('[project]\nname = "ajam-gateway"\nversion = "1.2.3"\n')
    assert checkout_version(tmp_path / "gateway") == "1.2.3"
    pyproject.write_text("not toml [")
    assert checkout_version(tmp_path / "gateway") is None


def test_log_level_is_a_choice() -> None:
    assert build_parser().parse_args(["--log-level", "debug"]).log_level == "DEBUG"
    result = gateway("--log-level", "loud")
    assert result.returncode == 2
    assert "argument --log-level: invalid choice: 'LOUD' (choose from 'DEBUG'" in result.stderr
    assert "Traceback" not in result.stderr
