"""The command line's own parts, below ``gateway.__main__`` (which parses
the arguments and runs the gateway):

* ``report``: ``check-config``'s summary of each user and its warnings;
* ``envfile``: systemd's ``EnvironmentFile=`` syntax, for ``check-config
  --env-file``;
* ``secrets``: ``hash-secret`` and ``digest-ha1``, a secret read without echo;
* ``listen``: a port that cannot be listened on, as one line;
* ``version``: ``--version``.
"""

from gateway.cli.report import check_config_report
from gateway.cli.secrets import hash_secret_cli

__all__ = ["check_config_report", "hash_secret_cli"]
