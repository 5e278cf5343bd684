"""AMI: the sans-I/O codec and correlator, and the one-socket client."""
