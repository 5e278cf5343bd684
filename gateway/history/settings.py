"""The call history's settings: ``[history]`` and its database tables, as
``gateway.config.history`` reads them."""

from __future__ import annotations

import dataclasses
import zoneinfo
from dataclasses import dataclass, field
from typing import Final

from gateway.history.location import expand

DAY: Final = 86_400
BACKENDS: Final = ("sqlite", "mysql", "postgresql")
LAYOUTS: Final = ("auto", "cdr_mysql", "adaptive")
"""cdr_mysql/cdr_pgsql have ``calldate``; the alembic (cdr_adaptive_odbc) table ``start``."""


@dataclass(frozen=True, slots=True)
class NumberRules:
    """How a phone number becomes its search key: digits only, then the last N."""

    keep_last: int = 10
    """Russian national numbers are 10 digits: +7 912…, 8 912… and 912… meet."""
    prefixes: tuple[str, ...] = ("8", "7", "+7")
    """What may stand before a national number in a table the gateway cannot
    normalise (the MySQL backend matches these spellings exactly)."""
    max_length: int = 32
    """A longer ``number`` is refused: no dial string is that long."""


@dataclass(frozen=True, slots=True)
class DatabaseConfig:
    """``[history.mysql]`` or ``[history.postgresql]``: the PBX's CDR database."""

    host: str = "127.0.0.1"
    port: int = 0
    """0: the server's usual port, 3306 or 5432."""
    unix_socket: str = ""
    """MySQL: the socket file; PostgreSQL: the directory that holds it."""
    user: str = "asterisk"
    password: str = ""
    database: str = "asterisk"
    table: str = "cdr"
    layout: str = "auto"
    pool_size: int = 4
    connect_timeout: float = 5.0


@dataclass(frozen=True, slots=True)
class HistoryConfig:
    enabled: bool = False
    backend: str = "sqlite"
    path: str = "ajam-history.sqlite3"
    """May contain ``{node_id}`` (``gateway.history.location``): ``for_node`` fills it in."""
    retention_days: int = 0
    """0 keeps calls forever."""
    max_rows: int = 0
    """0 sets no cap; else the oldest rows above it are deleted."""
    pbx_timezone: zoneinfo.ZoneInfo = field(default_factory=lambda: zoneinfo.ZoneInfo("UTC"))
    """Cdr times carry no zone: Asterisk writes the PBX's local time."""
    limit_default: int = 20
    limit_max: int = 500
    """A client cannot ask for more calls than this in one answer."""
    queue_size: int = 10_000
    """Cdrs waiting for the writer; more are dropped and counted, never block AMI."""
    batch_size: int = 500
    """Rows per transaction: one fsync per batch, not per call."""
    flush_interval: float = 0.5
    prune_interval: float = 300.0
    query_timeout: float = 5.0
    numbers: NumberRules = field(default_factory=NumberRules)
    extra_columns: tuple[str, ...] = ()
    """More columns of the PBX's table in every call (FreePBX: recordingfile,
    cnum, did), by their names: the MySQL and PostgreSQL backends only."""
    recordings_dir: str = ""
    """Where the PBX writes call recordings; "" serves none (no /recording)."""
    recording_column: str = ""
    """The CDR column naming a call's recording file (FreePBX: recordingfile);
    "" finds it by the call's uniqueid in its file name."""
    recordings_scan_limit: int = 100_000
    """Entries read of one folder when looking for a uniqueid in file names: a
    monitor folder may hold millions, and a lookup must stay short."""
    mysql: DatabaseConfig = field(default_factory=DatabaseConfig)
    postgresql: DatabaseConfig = field(default_factory=DatabaseConfig)

    def for_node(self, node_id: str) -> HistoryConfig:
        """These settings with ``{node_id}`` in ``path`` replaced by ``node_id``."""
        return dataclasses.replace(self, path=expand(self.path, node_id))
