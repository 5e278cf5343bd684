"""The ajam-gateway benchmark suite: ``python3 -m bench`` (see bench/README.md)."""
