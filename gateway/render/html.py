"""``/manager`` and ``/amanager``: the "Manager Tester" HTML page with a table.

Each field is a row ``<tr><td>Name</td><td>value</td></tr>\\n`` (the name keeps
its case, repeats are numbered ``Name-2``...), each message ends with a
``<hr>`` row, and both name and value are escaped as Asterisk escapes them
(``&apos;`` included). Lines of opaque data are joined with ``<br>\\n``.

Asterisk serves two different pages around the same rows: the form of
``/manager`` and, under HTTP digest (``/amanager``), an HTML 2.0 page. Both
are reproduced byte for byte from the captures, mixed CRLF and LF included.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from gateway.ami.message import Message, encode
from gateway.render.base import RenderOptions
from gateway.render.text import escape, numbered, rows

CONTENT_TYPE: Final = "text/html; charset=utf-8"

MANAGER_HEAD: Final = (
    b"<title>Asterisk&trade; Manager Interface</title>"
    b'<body bgcolor="#ffffff"><table align=center bgcolor="#f1f1f1" width="500">\r\n'
    b'<tr><td colspan="2" bgcolor="#f1f1ff"><h1>Manager Tester</h1></td></tr>\r\n'
    b'<tr><td colspan="2" bgcolor="#f1f1ff"><form action="manager" method="post">\n'
    b'\tAction: <select name="action">\n'
    b'\t\t<option value="">-----&gt;</option>\n'
    b'\t\t<option value="login">login</option>\n'
    b'\t\t<option value="command">Command</option>\n'
    b'\t\t<option value="waitevent">waitevent</option>\n'
    b'\t\t<option value="listcommands">listcommands</option>\n'
    b"\t</select>\n"
    b'\tor <input name="action"><br/>\n'
    b'\tCLI Command <input name="command"><br>\n'
    b'\tuser <input name="username"> pass <input type="password" name="secret"><br>\n'
    b'\t<input type="submit">\n'
    b"</form>\n"
    b"</td></tr>\r\n"
)
MANAGER_TAIL: Final = b"</table></body>\r\n"

DIGEST_HEAD: Final = (
    b'<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">\r\n'
    b"<html><head>\r\n"
    b"<title>Asterisk&trade; Manager Interface</title>\r\n"
    b'</head><body style="background-color: #ffffff;">\r\n'
    b'<form method="POST">\r\n'
    b'<table align="center" style="background-color: #f1f1f1;" width="500">\r\n'
    b'<tr><th colspan="2" style="background-color: #f1f1ff;">'
    b"<h1>Manager Tester</h1></th></tr>\r\n"
    b'<tr><th colspan="2" style="background-color: #f1f1ff;">'
    b'Action: <input name="action" /> Cmd: <input name="command" /><br>'
    b'<input type="submit" value="Send request" /></th></tr>\r\n'
)
DIGEST_TAIL: Final = b"</table></form></body></html>\r\n"

SEPARATOR: Final = '<tr><td colspan="2"><hr></td></tr>\r\n'
LINE_BREAK: Final = "<br>\n"


def html_fragment(msg: Message) -> bytes:
    """The rows of one message and its closing ``<hr>`` row."""
    table = rows(msg)
    if not table:
        return b""
    names = numbered(escape(name) for name, _ in table)
    cells = "".join(
        f"<tr><td>{name}</td><td>{LINE_BREAK.join(map(escape, lines))}</td></tr>\n"
        for name, (_, lines) in zip(names, table, strict=True)
    )
    return encode(cells + SEPARATOR)


@dataclass(frozen=True, slots=True)
class HtmlFormat:
    """A page around the rows; the rows are the same for every page."""

    name: str
    head: bytes
    tail: bytes
    content_type: str = CONTENT_TYPE

    def cache_key(self, opts: RenderOptions) -> str:
        return "html"

    def fragment(self, msg: Message, opts: RenderOptions) -> bytes:
        return html_fragment(msg)

    def document(self, fragments: Sequence[bytes], opts: RenderOptions) -> bytes:
        return b"".join((self.head, *fragments, self.tail))


MANAGER: Final = HtmlFormat("manager", MANAGER_HEAD, MANAGER_TAIL)
AMANAGER: Final = HtmlFormat("amanager", DIGEST_HEAD, DIGEST_TAIL)
"""``/amanager``: the page Asterisk serves under HTTP digest."""
