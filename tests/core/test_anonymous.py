"""Anonymous session ids (``gateway.core.anonymous``): minted, recognised
within their life, refused when forged, old, foreign or random."""

from __future__ import annotations

import re

from gateway.core.anonymous import AnonymousIds
from gateway.core.sessions import new_id

KEY = b"k" * 32


def test_an_id_has_the_routable_shape_and_comes_back_within_its_life() -> None:
    ids = AnonymousIds("n1", 10.0, KEY)
    minted = ids.mint(100.9)
    assert re.fullmatch(r"n1[0-9a-f]{32}", minted)
    assert ids.valid(minted, 100.9)
    assert ids.valid(minted, 110.5)  # whole seconds: minted in second 100
    assert not ids.valid(minted, 111.0)
    assert not ids.valid(minted, 99.0)  # from the future: wraps to a huge age


def test_forged_foreign_and_random_ids_are_not_anonymous() -> None:
    ids = AnonymousIds("n1", 10.0, KEY)
    minted = ids.mint(5.0)
    flipped = minted[:-1] + ("0" if minted[-1] != "0" else "1")
    assert not ids.valid(flipped, 5.0)
    assert not AnonymousIds("n2", 10.0, KEY).valid(minted, 5.0)  # another node
    assert not AnonymousIds("n1", 10.0, b"x" * 32).valid(minted, 5.0)  # another run
    assert not ids.valid(new_id("n1"), 5.0)  # a logged-in session's random id
    assert not ids.valid("n1" + "G" * 32, 5.0)
    assert not ids.valid(minted + "0", 5.0)
    assert not ids.valid("", 5.0)
    assert AnonymousIds("n1", 10.0).mint(0.0) != AnonymousIds("n1", 10.0).mint(0.0)
