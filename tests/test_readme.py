"""The README's first two commands are the ones CI runs (.ci/run), word for
word, under both Pythons: they cannot drift apart."""

from __future__ import annotations

import re
import shlex

from tests.support.procs import ROOT

README = ROOT / "README.md"
CI = ROOT / ".ci" / "run"


def words(command: str) -> list[str]:
    """A shell command as its words, a trailing comment left out."""
    return shlex.split(command, comments=True)


def readme_commands() -> list[list[str]]:
    text = README.read_text()
    block = re.search(r"```sh\n(.*?)```", text, re.S)
    assert block is not None
    assert text.index("```sh") < text.index("\n## "), "the commands come before any section"
    return [words(line) for line in block.group(1).splitlines()]


def ci_commands(text: str) -> dict[str, list[str]]:
    assigned = re.findall(r"^(README_\w+)=(.*)$", text, re.M)
    return {name: words(shlex.split(value)[0]) for name, value in assigned}


def test_the_readme_starts_with_a_venv_then_the_tests_in_it() -> None:
    demo, tests = readme_commands()
    assert demo[:4] == ["python3", "-m", "venv", ".venv"]
    assert demo[-1] == ".venv/bin/ajam-gateway"
    assert tests[:4] == [".venv/bin/pip", "install", "-e", ".[test]"]
    assert "pip" not in demo[: demo.index("&&")]  # nothing installed outside the venv
    assert not [w for w in demo + tests if w in {"pip", "pip3", "sudo"}]


def test_ci_runs_the_readmes_two_commands() -> None:
    text = CI.read_text()
    commands = ci_commands(text)
    assert [commands["README_DEMO"], commands["README_TESTS"]] == readme_commands()
    assert 'bash -c "$README_DEMO"' in text
    assert 'bash -c "$README_TESTS"' in text
    runs = re.findall(r"^readme_(demo|tests) (\S+)$", text, re.M)
    assert runs == [
        ("demo", "python3"),
        ("tests", "python3"),
        ("demo", "/usr/bin/python3"),
        ("tests", "/usr/bin/python3"),
    ]


def test_a_drifted_command_is_seen() -> None:
    drifted = CI.read_text().replace("-m pytest -q", "-m pytest -q -x")
    assert ci_commands(drifted)["README_TESTS"] != readme_commands()[1]
