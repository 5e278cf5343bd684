"""The user documentation holds together: every relative link in the README
and the docs/ pages leads to a file of this repository (and a heading, when
it names one), nothing in docs/ or tests/ reaches outside the repository, the
README stays short, and development history stays in the CHANGELOG."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Final

import pytest

from tests.support.docs import DOCS, ROOT

PAGES: Final = sorted(
    [
        ROOT / "README.md",
        *DOCS.glob("*.md"),
        ROOT / "CHANGELOG.md",
        ROOT / "clients" / "1c" / "README.md",
        ROOT / "bench" / "README.md",
        ROOT / "tests" / "fixtures" / "asterisk-22" / "README.md",
    ]
)
USER_PAGES: Final = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]
"""The pages an admin reads: no development history in them."""

LINK: Final = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
FENCE: Final = re.compile(r"^(```|~~~)")
OUTSIDE: Final = "../" + "shared"  # spelled apart, so that this file does not mention it
HISTORY: Final = re.compile(r"\bissue \d+|\bmerg(e|ed|ing)\b|\bbranch `|\bmissed in\b", re.I)


def prose(text: str) -> Iterator[str]:
    """The lines outside fenced code blocks."""
    fenced = False
    for line in text.split("\n"):
        if FENCE.match(line.lstrip()):
            fenced = not fenced
            continue
        if not fenced:
            yield line


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped
    (letters, digits, ``_``, ``-`` and spaces kept), spaces as ``-``."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    seen: dict[str, int] = {}
    found = set()
    for line in prose(page.read_text()):
        match = re.match(r"#{1,6} (.*)", line)
        if match is None:
            continue
        base = slug(match.group(1))
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return found


def links(page: Path) -> list[str]:
    return [m.group(1) for line in prose(page.read_text()) for m in LINK.finditer(line)]


def test_the_slugs_are_githubs() -> None:
    door = "ami-clients-the-ami-door-ami_server"
    assert slug("AMI clients: the AMI door (`[ami_server]`)") == door
    assert slug("4. Errors the gateway adds") == "4-errors-the-gateway-adds"
    assert slug("Events: waitevent, cursors and an operator's view") == (
        "events-waitevent-cursors-and-an-operators-view"
    )


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(page: Path) -> None:
    checked = 0
    for target in links(page):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):  # https:, mailto:
            continue
        path, _, anchor = target.partition("#")
        resolved = (page.parent / path).resolve() if path else page
        assert resolved.is_relative_to(ROOT), f"{page.name}: {target} leaves the repository"
        assert resolved.exists(), f"{page.name}: {target} names no file"
        if anchor and resolved.suffix == ".md":
            assert anchor in anchors(resolved), f"{page.name}: {target} names no heading"
        checked += 1
    if page in USER_PAGES:
        assert checked, f"{page.name} links to nothing"


def test_nothing_in_docs_or_tests_reaches_outside_the_repository() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for folder in (DOCS, ROOT / "tests")
        for path in folder.rglob("*")
        if path.is_file()
        and path.suffix in {".md", ".py", ".toml", ".txt", ".json", ".js", ".cfg", ".ini"}
        and OUTSIDE in path.read_text(errors="replace")
    ]
    assert offenders == []


def test_the_readme_is_short_and_links_every_docs_page() -> None:
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= 200
    for page in DOCS.glob("*.md"):
        assert f"](docs/{page.name})" in readme, page.name


@pytest.mark.parametrize("page", USER_PAGES, ids=lambda p: p.name)
def test_no_development_history_in_the_user_docs(page: Path) -> None:
    found = [line for line in prose(page.read_text()) if HISTORY.search(line)]
    assert found == []


def test_the_history_pattern_finds_history() -> None:
    for line in ("fixed in issue 6", "after merging main", "on branch `perf`", "missed in 6"):
        assert HISTORY.search(line), line
    assert not HISTORY.search("the targets were missed, by 28 %")


def test_every_ami_door_deviation_the_replays_cite_is_listed() -> None:
    replay = (ROOT / "tests" / "amiserver" / "test_replay.py").read_text()
    cited = set(re.findall(r'"(D\d+):', replay))
    assert cited
    listed = set(re.findall(r"^\| (D\d+) \|", (DOCS / "deviations.md").read_text(), re.M))
    assert cited <= listed
