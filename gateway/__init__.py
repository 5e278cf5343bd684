"""ajam-gateway: AJAM over HTTP, one multiplexed AMI connection to Asterisk."""

__version__ = "0.1.0"
