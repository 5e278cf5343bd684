"""Call history (issue 7): CDRs recorded from AMI, or read from the PBX's table.

``config`` parses ``[history]``; ``numbers`` normalises phone numbers;
``record`` turns a ``Cdr`` event into a row; ``sqlite_store`` is the
embedded store (no asyncio), ``recorder`` batches writes to it in the
background; ``mysql_source`` reads Asterisk's own ``cdr`` table; ``query``
checks a request's parameters and ``service`` is the HTTP endpoint.
"""
