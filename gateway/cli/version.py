"""``ajam-gateway --version``: the version of the code that is running.

pyproject.toml is the one place the version is written.  An installed
gateway reads it from the package metadata pip wrote
(``importlib.metadata``).  A gateway imported from a checkout (an editable
install, or ``PYTHONPATH`` pointing at a clone) reads the checkout's own
pyproject.toml instead: the metadata of an editable install is written once,
at install time, and names whatever the tree said then, or another
checkout's version altogether.
"""

from __future__ import annotations

import importlib.metadata
import sys
import tomllib
from pathlib import Path
from typing import Final

DISTRIBUTION: Final = "ajam-gateway"
PACKAGE_DIR: Final = Path(__file__).resolve().parent.parent
"""``gateway/``: in a checkout, pyproject.toml sits beside it."""


def checkout_version(package_dir: Path = PACKAGE_DIR) -> str | None:
    """The version in the pyproject.toml next to ``package_dir``, if that
    file is this project's (a checkout); None for an installed copy."""
    try:
        data = tomllib.loads((package_dir.parent / "pyproject.toml").read_text("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    project = data.get("project")
    if not isinstance(project, dict) or project.get("name") != DISTRIBUTION:
        return None
    version = project.get("version")
    return version if isinstance(version, str) else None


def installed_version(distribution: str = DISTRIBUTION) -> str | None:
    """What pip recorded, or None when the package was never installed."""
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def version(package_dir: Path = PACKAGE_DIR) -> str:
    return checkout_version(package_dir) or installed_version() or "unknown"


def version_line(package_dir: Path = PACKAGE_DIR) -> str:
    """``ajam-gateway 0.2.0 (Python 3.11.2)``: the Python matters for bug
    reports (3.11.2 is the oldest supported)."""
    python = ".".join(str(part) for part in sys.version_info[:3])
    return f"{DISTRIBUTION} {version(package_dir)} (Python {python})"
