"""The /history answer's JSON schema as docs/history.md publishes it, and the few
checks of it the tests need (no JSON-schema library is a dependency)."""

from __future__ import annotations

import json
from typing import Any

from tests.support.docs import HISTORY_PAGE

TYPES = {"string": str, "integer": int, "null": type(None)}


def published_schema() -> Any:
    """The page's ```json block that holds ``"$schema"``."""
    text = HISTORY_PAGE.read_text()
    block = next(b for b in text.split("```json\n")[1:] if '"$schema"' in b.split("```")[0])
    return json.loads(block.split("```")[0])


def _accepts(schema: Any, defs: Any, value: object) -> bool:
    if "$ref" in schema:
        return _accepts(defs[schema["$ref"].rsplit("/", 1)[1]], defs, value)
    if "oneOf" in schema:
        return sum(_accepts(s, defs, value) for s in schema["oneOf"]) == 1
    kinds = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
    if isinstance(value, bool):
        return False
    return any(isinstance(value, TYPES[kind]) for kind in kinds) and (
        not isinstance(value, int) or value >= schema.get("minimum", value)
    )


def call_errors(schema: Any, call: dict[str, Any]) -> list[str]:
    """What in one call the schema's ``call`` does not allow (empty: all of it)."""
    defs = schema["$defs"]
    call_schema = defs["call"]
    errors = [f"missing {name}" for name in call_schema["required"] if name not in call]
    for name, value in call.items():
        rule = call_schema["properties"].get(name, call_schema["additionalProperties"])
        if rule is False or not _accepts(rule, defs, value):
            errors.append(f"{name}={value!r}")
    return errors
