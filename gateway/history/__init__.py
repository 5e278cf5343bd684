"""Call history (issue 7): CDRs recorded from AMI, or read from the PBX's table.

``config`` parses ``[history]``; ``numbers`` normalises phone numbers;
``record`` turns a ``Cdr`` event into a row; ``sqlite_store`` is the
embedded store (no asyncio) and ``recorder`` batches writes to it in the
background (``stats`` shows its counters on /metrics).  ``sqlplan`` builds
the SELECT for Asterisk's own ``cdr`` table, ``tablesource`` runs it, and
``mysql_source`` / ``pg_source`` add their drivers.  ``query`` checks a
request's parameters and ``service`` is the HTTP endpoint.
"""
