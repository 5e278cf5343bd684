"""ajam-gateway: AJAM over HTTP, one multiplexed AMI connection to Asterisk.

The version lives in one place, pyproject.toml (``ajam-gateway --version``
reads it: ``gateway.cli.version``).
"""
