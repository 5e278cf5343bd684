from __future__ import annotations

import locale
from collections.abc import Iterator

import pytest


@pytest.fixture
def c_locale() -> Iterator[None]:
    """glibc's regex follows LC_CTYPE, which Python set from the environment."""
    saved = locale.setlocale(locale.LC_CTYPE)
    locale.setlocale(locale.LC_CTYPE, "C")
    try:
        yield
    finally:
        locale.setlocale(locale.LC_CTYPE, saved)
