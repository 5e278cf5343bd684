from __future__ import annotations

import pytest

from tests.support.memcore import MemCore, mem_core


@pytest.fixture
def core() -> MemCore:
    """The core in memory, its failed-login delay 0 (tests of the delay make their own)."""
    return mem_core()
