"""check-config --env-file reads systemd's EnvironmentFile= syntax as
systemd does: each case's variables are compared with systemd's own parser
too (``systemd-analyze condition ConditionOSRelease=`` reads a file named by
``$SYSTEMD_OS_RELEASE`` with the same parser), fed whole and as a file."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from gateway.cli.envfile import load_env_files, parse_env_file
from gateway.errors import ConfigError
from tests.support.deploykit import run, tool


@dataclass(frozen=True)
class Case:
    name: str
    data: bytes
    variables: dict[str, str]
    warnings: tuple[str, ...] = ()
    """Fragments, one per expected warning, in order."""
    systemd: bool = True
    """Compare with systemd's parser (not for what differs by systemd version)."""


CASES = (
    Case("plain", b"A=1\nB = 2 \n  C=three four  \n", {"A": "1", "B": "2", "C": "three four"}),
    Case(
        "comments",
        b"# x\n; y\n  # z\nD=1 # not a comment\n",
        {"D": "1 # not a comment"},
    ),
    Case("lines without '='", b"JUSTAKEY\nE=5\n\n   \n", {"E": "5"}),
    Case("single quotes", b"F='a \\n \"b\" $x'\n", {"F": 'a \\n "b" $x'}),
    Case("single quotes span lines", b"G='line1\nline2'\n", {"G": "line1\nline2"}),
    Case(
        "double-quote escapes",
        b'H="a\\"b\\\\c\\$d\\`e\\qf"\n',
        {"H": 'a"b\\c$d`e\\qf'},
    ),
    Case("double-quote continuation", b'I="one\\\ntwo"\n', {"I": "onetwo"}),
    Case("unquoted escapes", b"J=a\\ b\\\\c\\\nd\n", {"J": "a b\\cd"}),
    Case("concatenated quotes", b'K="a"\'b\'c\nL="a" b\n', {"K": "abc", "L": "ab"}),
    Case("later quotes are kept", b"M=a \"b\" 'c'\n", {"M": "a \"b\" 'c'"}),
    Case("CRLF", b"N=1\r\nO=2\r\n", {"N": "1", "O": "2"}),
    Case("a lone CR ends a line", b"AD=1\rAE=2\n", {"AD": "1", "AE": "2"}),
    Case("the last assignment wins", b"P=1\nP=2\n", {"P": "2"}, ("P set again",)),
    Case(
        "empty values",
        b"Q=\nR=  \n",
        {"Q": "", "R": ""},
        systemd=False,  # ConditionOSRelease= cannot compare with an empty value
    ),
    Case("no final newline", b"S=end", {"S": "end"}),
    Case("a backslash at the end", b"AF=x\\", {"AF": "x"}),
    Case("an open quote", b"T='open\n", {"T": "open\n"}, ("a quote is never closed",)),
    Case("an escaped trailing space", b"W=a\\ \n", {"W": "a "}),
    Case(
        "an escaped leading space",
        b"AH=\\ lead\n",
        {"AH": " lead"},
        systemd=False,  # "=" cannot compare a leading blank: the fnmatch test below does
    ),
    Case("a CRLF comment ending with a backslash", b"# c \\\r\nAI=1\r\n", {"AI": "1"}),
    Case("a backslash inside a comment", b"# C:\\path\nAJ=1\n", {"AJ": "1"}),
    Case("tabs", b"X=\ta\tb\t\n", {"X": "a\tb"}),
    Case("'=' in the value", b"URL=a=b\n", {"URL": "a=b"}),
    Case("UTF-8", "AG=привет\n".encode(), {"AG": "привет"}),
    Case(
        "export is not shell",
        b"export U=1\nV=2\n",
        {"V": "2"},
        ("'export U' is not a variable name: systemd ignores it (there is no 'export'",),
    ),
    Case(
        "names systemd drops",
        b"1X=1\nA-B=2\nAA BB=3\n",
        {},
        ("'1X' is not", "'A-B' is not", "'AA BB' is not"),
        systemd=False,  # ConditionOSRelease= does not check names; EnvironmentFile= does
    ),
    Case(
        "a comment ending with a backslash",
        b"# note \\\nY=1\n",
        {"Y": "1"},
        ("env:2: Y follows a comment that ends with a backslash",),
        systemd=False,  # 254 changed it: the point of the warning
    ),
    Case(
        "NUL",
        b"Z=1\nZ2=2\x00Z3=3\n",
        {"Z": "1", "Z2": "2"},
        ("a NUL byte",),
        systemd=False,
    ),
)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_parse(case: Case) -> None:
    parsed = parse_env_file(case.data, "env")
    assert parsed.variables == case.variables
    assert len(parsed.warnings) == len(case.warnings), parsed.warnings
    for warning, fragment in zip(parsed.warnings, case.warnings, strict=True):
        assert fragment in warning


def quoted(text: str) -> str:
    """A word of a unit setting, quoted (systemd's extract_first_word unquotes it)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


@pytest.mark.parametrize("case", [c for c in CASES if c.systemd], ids=lambda case: case.name)
def test_systemd_reads_the_same(case: Case, tmp_path: Path) -> None:
    analyze = tool("systemd-analyze", "systemd")
    path = tmp_path / "os-release"
    path.write_bytes(case.data)
    words = " ".join(quoted(f"{k}={v}") for k, v in case.variables.items())
    env = {**os.environ, "SYSTEMD_OS_RELEASE": str(path)}
    result = run([analyze, "condition", f"ConditionOSRelease={words}"], env=env)
    assert result.returncode == 0, result.stdout


def test_systemd_notices_a_wrong_value(tmp_path: Path) -> None:
    """The comparison above can fail: a value that differs is refused."""
    analyze = tool("systemd-analyze", "systemd")
    path = tmp_path / "os-release"
    path.write_bytes(b"J=a\\ b\n")
    env = {**os.environ, "SYSTEMD_OS_RELEASE": str(path)}
    assert run([analyze, "condition", "ConditionOSRelease=J=a b"], env=env).returncode != 0
    assert run([analyze, "condition", 'ConditionOSRelease="J=a b"'], env=env).returncode == 0


def test_systemd_keeps_an_escaped_leading_space(tmp_path: Path) -> None:
    analyze = tool("systemd-analyze", "systemd")
    path = tmp_path / "os-release"
    path.write_bytes(b"AH=\\ lead\n")
    env = {**os.environ, "SYSTEMD_OS_RELEASE": str(path)}
    assert run([analyze, "condition", "ConditionOSRelease=AH$=?lead"], env=env).returncode == 0
    assert run([analyze, "condition", "ConditionOSRelease=AH$=lead"], env=env).returncode != 0


def test_invalid_utf8_in_an_assignment_rejects_the_file() -> None:
    with pytest.raises(ConfigError, match=r"env:2: not valid UTF-8: systemd rejects the whole"):
        parse_env_file(b"A=1\nB=\xff\n", "env")


def test_invalid_utf8_in_a_comment_is_nothing() -> None:
    assert parse_env_file(b"# \xff\nA=1\n").variables == {"A": "1"}


def test_files_merge_later_wins_and_dash_may_be_missing(tmp_path: Path) -> None:
    shared = tmp_path / "shared.env"
    shared.write_text("AJAM_AMI_SECRET=shared\nOTHER=1\n")
    own = tmp_path / "a.env"
    own.write_text("AJAM_AMI_SECRET=own\n")
    missing = tmp_path / "b.env"
    loaded = load_env_files([str(shared), f"-{own}", f"-{missing}"])
    assert loaded.variables == {"AJAM_AMI_SECRET": "own", "OTHER": "1"}
    with pytest.raises(ConfigError, match=r"--env-file .*b\.env: no such file"):
        load_env_files([str(missing)])
    with pytest.raises(ConfigError, match=r"--env-file .*: cannot read"):
        load_env_files([str(tmp_path)])
