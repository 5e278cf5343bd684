"""The login cache (``gateway.core.logincache``) with explicit ``now``."""

from __future__ import annotations

import pytest

from gateway.core.logincache import VerifiedLogins


def test_an_entry_lives_ttl_from_its_check_not_from_its_use() -> None:
    cache: VerifiedLogins[str] = VerifiedLogins(ttl=60.0, size=10)
    key = cache.key("Crm", "192.0.2.1", "secret")
    assert cache.get(key, 0.0) is None
    cache.put(key, "crm", 0.0)
    assert cache.get(key, 59.0) == "crm"
    assert cache.get(key, 60.0) is None  # gone, though it was used at 59
    assert len(cache) == 0
    assert (cache.hits, cache.misses) == (1, 2)


def test_keys_hold_no_secret_and_differ_by_user_address_and_secret() -> None:
    cache: VerifiedLogins[str] = VerifiedLogins()
    key = cache.key("crm", "192.0.2.1", "s3cret-value")
    assert len(key) == 32
    assert b"s3cret" not in key
    assert key == cache.key("CRM", "192.0.2.1", "s3cret-value")  # users are keyed lower-cased
    others = {
        cache.key("crm2", "192.0.2.1", "s3cret-value"),
        cache.key("crm", "192.0.2.2", "s3cret-value"),
        cache.key("crm", "192.0.2.1", "s3cret-valuE"),
        cache.key("crm\x001", "92.0.2.1", "s3cret-value"),
    }
    assert key not in others
    assert len(others) == 4
    assert VerifiedLogins[str]().key("crm", "192.0.2.1", "s3cret-value") != key  # per process


def test_the_least_recently_used_go_first_and_a_reload_empties_it() -> None:
    cache: VerifiedLogins[str] = VerifiedLogins(ttl=60.0, size=2)
    a, b, c = (cache.key(name, "x", "s") for name in "abc")
    cache.put(a, "a", 0.0)
    cache.put(b, "b", 0.0)
    assert cache.get(a, 1.0) == "a"  # b is now the least recently used
    cache.put(c, "c", 1.0)
    assert cache.get(b, 1.0) is None
    assert cache.get(a, 1.0) == "a"
    cache.configure(30.0, 5)
    assert len(cache) == 0
    assert cache.ttl == 30.0


def test_ttl_zero_turns_it_off() -> None:
    cache: VerifiedLogins[str] = VerifiedLogins(ttl=0.0)
    key = cache.key("crm", "x", "s")
    cache.put(key, "crm", 0.0)
    assert cache.get(key, 0.0) is None
    assert len(cache) == 0
    with pytest.raises(ValueError, match="ttl"):
        cache.configure(-1.0, 1)
