"""Readers for the Asterisk 22 captures in tests/fixtures/asterisk-22."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from gateway.ami.message import Message, decode, header

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "asterisk-22"
AMI_DIR = FIXTURES / "ami"
AJAM_DIR = FIXTURES / "ajam"

_HEADER = re.compile(rb"#### (REQUEST|RESPONSE) (\d+) \((\d+) bytes\)\n")


@dataclass(frozen=True, slots=True)
class HttpResponse:
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def header(self, name: str) -> str | None:
        return header(self.headers, name)


@dataclass(frozen=True, slots=True)
class Exchange:
    number: int
    label: str
    request: bytes
    response: bytes

    @property
    def request_line(self) -> bytes:
        return self.request.split(b"\r\n", 1)[0]

    @property
    def target(self) -> str:
        """The raw request target, e.g. ``/asterisk/rawman?action=ping``."""
        return self.request_line.split(b" ")[1].decode("latin-1")

    @property
    def method(self) -> str:
        return self.request_line.split(b" ")[0].decode("ascii")

    @property
    def request_headers(self) -> list[tuple[str, str]]:
        head = self.request.split(b"\r\n\r\n", 1)[0]
        out = []
        for line in head.split(b"\r\n")[1:]:
            key, _, value = line.decode("latin-1").partition(":")
            out.append((key, value.strip()))
        return out

    @property
    def request_body(self) -> bytes:
        return self.request.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in self.request else b""

    def parsed_response(self) -> HttpResponse | None:
        if not self.response:
            return None
        head, _, body = self.response.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        headers = tuple((k, v.strip()) for k, _, v in (line.partition(":") for line in lines[1:]))
        return HttpResponse(status, headers, body)


def read_http_fixture(name: str) -> list[Exchange]:
    """All exchanges of ``ajam/<name>.http``, raw blocks read by length."""
    data = (AJAM_DIR / f"{name}.http").read_bytes()
    labels = {
        int(m.group(1)): m.group(2).decode()
        for m in re.finditer(rb"#### EXCHANGE (\d+): ([^|]*)\|", data)
    }
    blocks: dict[tuple[str, int], bytes] = {}
    pos = 0
    while (match := _HEADER.search(data, pos)) is not None:
        size = int(match.group(3))
        start = match.end()
        blocks[(match.group(1).decode(), int(match.group(2)))] = data[start : start + size]
        pos = start + size
    return [
        Exchange(n, labels.get(n, "").strip(), blocks[("REQUEST", n)], blocks[("RESPONSE", n)])
        for n in sorted({n for (_, n) in blocks})
    ]


def ami_cases() -> list[str]:
    return sorted(p.stem for p in AMI_DIR.glob("*.recv"))


def ajam_cases() -> list[str]:
    return sorted(p.stem for p in AJAM_DIR.glob("*.http"))


def ami_recv(case: str) -> bytes:
    return (AMI_DIR / f"{case}.recv").read_bytes()


def ami_sent(case: str) -> bytes:
    return (AMI_DIR / f"{case}.sent").read_bytes()


def messages(data: bytes) -> list[Message]:
    """Just enough AMI parsing for one capture: blocks split at blank lines."""
    body = data.split(b"\r\n", 1)[1]  # the banner has no blank line after it
    out = []
    for block in body.split(b"\r\n\r\n"):
        if block:
            lines = decode(block).split("\r\n")
            out.append(Message(tuple((k, v) for k, _, v in (ln.partition(": ") for ln in lines))))
    return out


def listcommands_response() -> Message:
    """Asterisk's answer to ListCommands in the ami/listcommands capture."""
    found = [m for m in messages(ami_recv("listcommands")) if m.get("ActionID") == "lc-1"]
    assert len(found) == 1
    return found[0]
