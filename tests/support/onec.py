"""The plain 1C:Enterprise exchanges, as the simulated 1C client sends them
(tests/e2e/test_onec.py): the user, and the functions' HTTP halves."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import quote

CRM_PASSWORD = "пароль-crm"  # a Cyrillic password: Basic credentials are UTF-8
CRM_USER = {"secret": CRM_PASSWORD, "read": "call", "write": "originate,call"}
CALLER_NAME = "Иван Петров"
FORM_TYPE = "application/x-www-form-urlencoded"


def form_value(value: str) -> str:
    """ВФорму(): КодироватьСтроку(..., КодировкаURL), then "%20" to "+"."""
    return quote(value, safe="").replace("%20", "+")


def basic_header(user: str, password: str) -> str:
    """ЗаголовокBasic(): "Basic " + Base64Строка(UTF-8 bytes, no BOM)."""
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def read_answer(status: int, body: bytes, content_type: str) -> dict[str, Any]:
    """ПрочитатьОтвет(): status 200, UTF-8 text, JSON into maps."""
    assert status == 200
    assert content_type == "application/json; charset=utf-8"
    answer: dict[str, Any] = json.loads(body.decode("utf-8"))
    return answer
