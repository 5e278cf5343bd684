"""The PBX-table backends against real servers (tests/support/mariadb.py and
postgres.py): Asterisk's cdr table in its usual layout and in the alembic
one, read through /history, once on MariaDB (the mysql backend) and once on
PostgreSQL (tests/support/cdrtables.py)."""

from __future__ import annotations

from pathlib import Path

from gateway.history.record import COLUMNS
from gateway.simulator import Simulator
from tests.support.cdrtables import SEQ_SCAN, CdrTables, clid
from tests.support.dbserver import AUTH, ask, check_filters, check_unreachable
from tests.support.harness import MakeClient, start
from tests.support.historyschema import call_errors, published_schema


async def test_usual_layout(
    simulator: Simulator, aiohttp_client: MakeClient, cdr_tables: CdrTables
) -> None:
    client = await start(simulator, aiohttp_client, history=cdr_tables.section())
    await check_filters(client)
    calls = (await ask(client, number="9120000000"))["calls"]
    latest, earliest = calls[0], calls[-1]
    assert (earliest["start"], latest["start"]) == (
        "2026-11-20T10:00:00+03:00",
        "2026-11-24T14:00:00+03:00",
    )
    assert (earliest["clid"], earliest["billsec"]) == ('"Иван" <+79120000000>', 10)
    assert (latest["clid"], latest["billsec"]) == ('"Иван" <89120000000>', 7)
    for call in calls:  # calldate only: no answer, end or linkedid; amaflags as a number
        assert (call["answer"], call["end"], call["linkedid"]) == (None, None, "")
        assert call["amaflags"] == "DOCUMENTATION"
    assert (await ask(client, number="9120000000", limit=1))["calls"] == [latest]


async def test_adaptive_layout(
    simulator: Simulator, aiohttp_client: MakeClient, cdr_tables: CdrTables
) -> None:
    section = cdr_tables.section(**cdr_tables.adaptive)
    client = await start(simulator, aiohttp_client, history=section)
    calls = (await ask(client, number="89120000000"))["calls"]
    assert [c["linkedid"] for c in calls] == ["L4", "L2", "L1", "L0"]
    assert calls[0]["answer"] == calls[0]["end"] == "2026-11-24T14:00:00+03:00"
    assert calls[1]["answer"] is None
    assert calls[0]["amaflags"] == "BILLING"
    assert calls[0]["clid"] == (clid("89120000000") if cdr_tables.adaptive_clid else "")


async def test_lookups_use_the_indexes(cdr_tables: CdrTables) -> None:
    used = await cdr_tables.index_scans()
    assert used == cdr_tables.indexes
    assert SEQ_SCAN not in used


async def test_database_failures_are_503(
    simulator: Simulator, aiohttp_client: MakeClient, cdr_tables: CdrTables, tmp_path: Path
) -> None:
    client = await start(simulator, aiohttp_client, history=cdr_tables.section(table="nosuch"))
    assert "no table 'nosuch'" in (await ask(client, 503))["error"]
    down = cdr_tables.source(unix_socket=cdr_tables.nowhere(tmp_path))
    await check_unreachable(down, cdr_tables.source())


EXTRA = ["recordingfile", "cnum", "did", "note", "Sequence"]
"""FreePBX's columns, one the table spells "Note" (quoted, in PostgreSQL), and a
number spelt otherwise than in the table: names match as the database's do."""


async def test_extra_columns_come_with_every_call(
    simulator: Simulator, aiohttp_client: MakeClient, cdr_tables: CdrTables
) -> None:
    section = {**cdr_tables.section(), "extra_columns": EXTRA}
    client = await start(simulator, aiohttp_client, history=section)
    calls = (await ask(client, number="9120000000"))["calls"]
    by_day = {c["start"][:10]: c for c in calls}
    latest = by_day["2026-11-24"]  # row 4: an answered call from 89120000000
    assert list(latest)[:19] == list(COLUMNS)
    assert list(latest)[19:] == EXTRA  # after the standard ones, named as configured
    assert {k: latest[k] for k in EXTRA} == {
        "recordingfile": "external-89120000000-4.wav",
        "cnum": "89120000000",
        "did": "74950000000",
        "note": "n4",
        "Sequence": "104",  # a number, as text: every extra column is a string or null
    }
    busy = by_day["2026-11-22"]  # row 2: no recording
    assert busy["recordingfile"] == ""
    missed = by_day["2026-11-21"]  # row 1: cnum is NULL
    assert missed["cnum"] is None
    schema = published_schema()
    for call in calls:
        assert call_errors(schema, call) == []


async def test_an_extra_column_the_table_lacks_is_a_clear_503(
    simulator: Simulator, aiohttp_client: MakeClient, cdr_tables: CdrTables
) -> None:
    section = {**cdr_tables.section(**cdr_tables.adaptive), "extra_columns": ["did", "peeraccount"]}
    client = await start(simulator, aiohttp_client, history=section)
    error = (await ask(client, 503))["error"]
    assert error == "the CDR table has no column 'did' (named in [history] extra_columns)"
    section["extra_columns"] = ["peeraccount", "sequence"]  # the alembic table has these
    client = await start(simulator, aiohttp_client, history=section)
    calls = (await ask(client, number="89120000000"))["calls"]
    assert [(c["peeraccount"], c["sequence"]) for c in calls] == [(None, None)] * 4


async def test_a_recording_named_by_the_cdr(
    simulator: Simulator, aiohttp_client: MakeClient, cdr_tables: CdrTables, tmp_path: Path
) -> None:
    """FreePBX's recordingfile: a bare name, filed under YYYY/MM/DD of the call's day."""
    monitor = tmp_path / "monitor"
    (monitor / "2026/11/24").mkdir(parents=True)
    (monitor / "2026/11/24/external-89120000000-4.wav").write_bytes(b"RIFF-4")
    (tmp_path / "outside-3.wav").write_bytes(b"not a recording of monitor/")
    section = {
        **cdr_tables.section(),
        "recordings_dir": str(monitor),
        "recording_column": "recordingfile",
    }
    client = await start(simulator, aiohttp_client, history=section)

    async def fetch(uniqueid: str) -> tuple[int, bytes]:
        response = await client.get(
            "/asterisk/recording", params={"uniqueid": uniqueid}, headers=AUTH
        )
        return response.status, await response.read()

    assert await fetch("u4") == (200, b"RIFF-4")
    assert (await fetch("u2"))[0] == 404  # busy: no recording in its CDR
    assert (await fetch("u3"))[0] == 404  # "../outside-3.wav": outside recordings_dir
    assert (await fetch("nosuch"))[0] == 404
    section["recording_column"] = "recording"
    client = await start(simulator, aiohttp_client, history=section)
    status, body = await fetch("u4")
    assert status == 503
    assert b"no column 'recording' (named in [history] recording_column)" in body
