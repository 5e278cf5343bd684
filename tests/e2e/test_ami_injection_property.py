"""Property: whatever bytes an AMI client writes to the door, Asterisk gets
at most one well-formed action per client message (as Asterisk frames a
message), built only from that message's own lines: never a split, a merged
or an injected action.

Real TCP over loopback to the door of a gateway whose fake Asterisk records
every byte it receives (tests/support/threadrig.py: the gateway runs on a
loop in a background thread, hypothesis drives a blocking socket).  Lines
are arbitrary bytes (CR, NUL, colons, invalid UTF-8), with CRLF or LF ends,
names and separators spelled every way a client might; after each example a
Ping proves the stream is still in step.
"""

from __future__ import annotations

import socket
from typing import Final

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.ami.actionreader import ActionReader
from gateway.ami.codec import Parser
from gateway.ami.message import Field, Message
from tests.support.threadrig import Rig, rig

NAMES: Final = [b"Action", b"action", b"ActionID", b"actionid", b"Channel", b"UserEvent", b"X"]
ACTIONS: Final = [b"Ping", b"ping", b"UserEvent", b"Getvar", b"Status", b"CoreShowChannels", b"x"]
SEPARATORS: Final = [b": ", b":", b":\t", b" : ", b": \r", b"\x00: ", b":  "]
ENDS: Final = [b"\r\n", b"\n", b"\r\r\n", b"\x00\r\n"]
SENTINEL: Final = "sentinel"
READ_TIMEOUT: Final = 30.0


def no_lf(data: bytes) -> bytes:
    return data.replace(b"\n", b"")


@st.composite
def line(draw: st.DrawFn) -> bytes:
    if draw(st.integers(0, 5)) == 0:
        return no_lf(draw(st.binary(max_size=40)))  # anything at all, no colon needed
    name = draw(st.one_of(st.sampled_from(NAMES), st.binary(max_size=8).map(no_lf)))
    value = draw(st.one_of(st.sampled_from(ACTIONS), st.binary(max_size=30).map(no_lf)))
    return name + draw(st.sampled_from(SEPARATORS)) + value


@st.composite
def client_bytes(draw: st.DrawFn) -> bytes:
    """One to three messages, each of some lines and a blank line."""
    out = []
    for _ in range(draw(st.integers(1, 3))):
        lines: list[bytes] = draw(st.lists(line(), max_size=6))
        first_is_action: bool = draw(st.booleans())
        if lines and first_is_action:
            lines[0] = b"Action: " + draw(st.sampled_from(ACTIONS))
        for text in lines:
            out.append(text + draw(st.sampled_from(ENDS)))
        out.append(draw(st.sampled_from([b"\r\n", b"\n"])))
    return b"".join(out)


class DoorClient:
    """A blocking, logged-in AMI connection to the door."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.sock = self._connect()
        self.count = 0

    def _connect(self) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=READ_TIMEOUT)
        sock.sendall(
            b"Action: Login\r\nActionID: in\r\nUsername: admin\r\nSecret: admin-secret\r\n\r\n"
        )
        self._read_until(sock, b"Message: Authentication accepted\r\n\r\n")
        return sock

    @staticmethod
    def _read_until(sock: socket.socket, marker: bytes) -> bytes:
        data = b""
        while marker not in data:
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError("the door closed the connection")
            data += chunk
        return data

    def send_then_ping(self, data: bytes) -> str:
        """Write ``data`` and a Ping; return once the Ping is answered (every
        action before it has been, in order).  The Ping's ActionID."""
        self.count += 1
        action_id = f"{SENTINEL}-{self.count}"
        self.sock.sendall(data + f"Action: Ping\r\nActionID: {action_id}\r\n\r\n".encode())
        self._read_until(self.sock, f"ActionID: {action_id}\r\nPing: Pong".encode())
        return action_id


def without_ids(fields: tuple[Field, ...] | list[Field]) -> list[Field]:
    return [(k, v) for k, v in fields if k.lower() != "actionid"]


def as_read(fields: list[Field]) -> list[Field]:
    """One Action line, the first whose value is not empty (values are past
    their leading blanks already): what Asterisk runs; no one reads the
    other Action lines (issue 11, item 11)."""
    out: list[Field] = []
    found = False
    for name, value in fields:
        if name.lower() != "action":
            out.append((name, value))
        elif not found and value:
            out.append((name, value))
            found = True
    return out


def check(sent: bytes, upstream: bytes, sentinel: str) -> None:
    assert upstream.endswith(b"\r\n\r\n"), upstream
    for line_bytes in upstream.split(b"\r\n"):
        if line_bytes:
            name, sep, _ = line_bytes.partition(b": ")
            assert sep, line_bytes
            assert name, line_bytes
            assert b":" not in name, line_bytes
            assert b"\r" not in line_bytes, line_bytes
            assert b"\0" not in line_bytes, line_bytes
    actions = Parser(expect_banner=False, accept_actions=True).feed(upstream)
    assert all(isinstance(a, Message) for a in actions), actions
    messages = [a for a in actions if isinstance(a, Message)]
    last = messages.pop()
    assert last.get("Action") == "Ping"
    assert (last.get("ActionID") or "").endswith("|" + sentinel)
    client = [as_read(without_ids(item.message.fields)) for item in ActionReader().feed(sent)]
    assert len(messages) <= len(client)
    position = 0
    for action in messages:
        ids = [v for k, v in action.fields if k.lower() == "actionid"]
        assert len(ids) == 1, action  # the gateway's, the client's own after '|'
        fields = without_ids(action.fields)
        while position < len(client) and client[position] != fields:
            position += 1
        assert position < len(client), (fields, client)  # one of the client's, in order
        position += 1


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=client_bytes())
def check_bytes(running: Rig, client: DoorClient, data: bytes) -> None:
    start = running.upstream_length()
    sentinel = client.send_then_ping(data)
    check(data, running.upstream_since(start), sentinel)


def test_any_bytes_send_at_most_one_well_formed_action_per_client_message() -> None:
    with rig(ami_server={"enabled": True, "port": 0}) as running:
        client = DoorClient(running.ami_door_port)
        try:
            check_bytes(running, client)
            start = running.upstream_length()
            sentinel = client.send_then_ping(b"Action: Ping\r\nActionID: last\r\n\r\n")
            upstream = running.upstream_since(start)
            assert upstream.count(b"Action: Ping\r\n") == 2
            check(b"Action: Ping\r\nActionID: last\r\n\r\n", upstream, sentinel)
        finally:
            client.sock.close()
