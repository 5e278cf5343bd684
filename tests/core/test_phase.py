"""The gateway's lifecycle: one named state that only moves forward."""

from __future__ import annotations

from gateway.core.phase import Lifecycle, Phase


def test_a_served_gateway_drains_then_stops() -> None:
    life = Lifecycle()
    seen = [life.phase]
    for step in (life.serve, life.drain, life.serve, life.stop, life.drain):
        step()
        seen.append(life.phase)
    # serve() after the drain began, and drain() once stopped, change nothing
    assert seen == [
        Phase.STARTING,
        Phase.SERVING,
        Phase.DRAINING,
        Phase.DRAINING,
        Phase.STOPPED,
        Phase.STOPPED,
    ]


def test_logins_are_refused_from_the_drain_on() -> None:
    life = Lifecycle()
    assert not life.closing  # built, not yet started: tests and tools log in
    life.serve()
    assert not life.closing
    life.drain()
    assert life.closing
    life.stop()
    assert life.closing
