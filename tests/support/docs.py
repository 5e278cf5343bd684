"""The user documentation that tests hold the code to: README.md and the
pages in docs/, each table read from the page that publishes it."""

from __future__ import annotations

from pathlib import Path
from typing import Final

ROOT: Final = Path(__file__).resolve().parents[2]
DOCS: Final = ROOT / "docs"

METRICS_PAGE: Final = DOCS / "operations.md"
"""The metrics table: every series the gateway exports has its row."""
CONFIGURATION_PAGE: Final = DOCS / "configuration.md"
"""The limits-and-timeouts table, under its own heading."""
HISTORY_PAGE: Final = DOCS / "history.md"
"""The /history answer's JSON schema."""


def metrics_text() -> str:
    return METRICS_PAGE.read_text()


def table_after(text: str, heading: str) -> str:
    """The first Markdown table below ``heading`` (a whole line), as text."""
    lines = text.split("\n")
    start = lines.index(heading)
    rows = [n for n, line in enumerate(lines) if n > start and line.startswith("|")]
    assert rows, f"no table under {heading!r}"
    table = []
    for line in lines[rows[0] :]:
        if not line.startswith("|"):
            break
        table.append(line)
    return "\n".join(table)
