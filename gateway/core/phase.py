"""The gateway's lifecycle as one named state: starting, serving, draining, stopped.

``gateway.app`` moves it to SERVING when the app starts and to STOPPED when
it has cleaned up; ``gateway.lifecycle`` moves it to DRAINING on SIGTERM.
Logins are refused from the drain on (``gateway.core.login``), ``/readyz``
answers 503 and every answer closes its connection.
"""

from __future__ import annotations

import enum


class Phase(enum.Enum):
    STARTING = "starting"
    """Built; the app has not started yet."""
    SERVING = "serving"
    DRAINING = "draining"
    """SIGTERM: no new logins, every session ended, in-flight actions finishing."""
    STOPPED = "stopped"
    """The app has cleaned up: AMI logged off, the history flushed."""


class Lifecycle:
    """Where one gateway instance is in its life; it only ever moves forward."""

    __slots__ = ("_phase",)

    def __init__(self) -> None:
        self._phase = Phase.STARTING

    @property
    def phase(self) -> Phase:
        return self._phase

    def serve(self) -> None:
        if self._phase is Phase.STARTING:
            self._phase = Phase.SERVING

    def drain(self) -> None:
        if self._phase is not Phase.STOPPED:
            self._phase = Phase.DRAINING

    def stop(self) -> None:
        self._phase = Phase.STOPPED

    @property
    def closing(self) -> bool:
        """Draining or stopped: new logins are refused."""
        return self._phase in (Phase.DRAINING, Phase.STOPPED)
