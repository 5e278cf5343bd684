from __future__ import annotations

from gateway.ami.message import Message
from gateway.core.facts import AmiFacts


def test_ami_facts_count_on_from_fully_booted() -> None:
    facts = AmiFacts()
    assert facts.counted_on(1000.0) == (0, 0)
    facts.observe(
        Message.of(("Event", "FullyBooted"), ("Uptime", "100"), ("LastReload", "50")), 1.0
    )
    assert facts.counted_on(1.0) == (100, 50)
    assert facts.counted_on(31.5) == (130, 80)
    facts.observe(Message.of(("Event", "Newchannel"), ("Uptime", "7")), 40.0)  # teaches nothing
    assert facts.counted_on(31.5) == (130, 80)
