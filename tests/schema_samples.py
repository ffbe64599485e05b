"""Payloads built from a response schema, for operations whose spec gives no example.

A sample fills in every property the schema declares, optional ones included, so a model
under the strict converter (unknown keys refused) proves it knows every field. ``variant``
picks the n-th branch of each ``oneOf`` (error branches skipped), and an array of a ``oneOf``
holds one item per branch, so every event type of a union is exercised.

Kraken types many values as plain ``string``; where no ``format`` or ``example`` says what
they hold, the property name decides (``...Time`` is a date-time, ``...Price`` a decimal).
Callers check every sample against the schema with ``openapi_spec.validate_response``.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["sample"]

_FORMATS: dict[str, Any] = {
    "date-time": "2024-05-01T12:00:00.000Z",
    "uuid": "2ceb1d31-f619-457b-870c-fd4ddbb10d45",
    "decimal": "1234.56789",
    "big-decimal": "56475.00000000000",
    "base64": "c29tZS10b2tlbg==",
}
_TIME_NAME = re.compile(r"(?:[Tt]ime|[Tt]imestamp|[Dd]ate|Received)$")
_DECIMAL_NAME = re.compile(
    r"(?:[Pp]rice|[Ss]ize|[Qq]uantity|[Pp]osition|[Ff]ee|[Aa]mount|PnL|[Ff]unding|[Rr]ate"
    r"|[Vv]olume|[Vv]alue|[Bb]alance|[Ss]hare|[Rr]ebateCredited)$"
)


def _types(schema: dict[str, Any]) -> list[str]:
    kind = schema.get("type")
    if kind is None:
        return ["object"] if "properties" in schema else []
    return [kind] if isinstance(kind, str) else list(kind)


def _merged(schema: dict[str, Any]) -> dict[str, Any]:
    """``allOf`` folded into one schema: properties and required lists united."""
    if "allOf" not in schema:
        return schema
    out: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
    for part in schema["allOf"]:
        for key, value in _merged(part).items():
            if key == "properties":
                out.setdefault("properties", {}).update(value)
            elif key == "required":
                out["required"] = [*out.get("required", []), *value]
            else:
                out.setdefault(key, value)
    return out


def _is_error(value: Any) -> bool:
    return isinstance(value, dict) and (value.get("result") == "error" or "error" in value)


def _branches(options: list[Any], variant: int, name: str) -> list[Any]:
    real = [b for b in options if _types(_merged(b)) != ["null"]] or options
    made = [sample(b, variant, name) for b in real]
    return [m for m in made if not _is_error(m)] or made


def _string(schema: dict[str, Any], name: str) -> Any:
    if schema.get("format") in _FORMATS:
        return _FORMATS[schema["format"]]
    if isinstance(schema.get("example"), str):
        return schema["example"]
    if _TIME_NAME.search(name):
        return _FORMATS["date-time"]
    if _DECIMAL_NAME.search(name):
        return "1.5"
    return "text"


def sample(schema: Any, variant: int = 0, name: str = "") -> Any:
    """A value that the schema accepts, with every declared property present."""
    if not isinstance(schema, dict):
        return None
    schema = _merged(schema)
    for key in ("oneOf", "anyOf"):
        if key in schema:
            made = _branches(schema[key], variant, name)
            return made[variant % len(made)]
    if "enum" in schema:
        values = [v for v in schema["enum"] if v is not None]
        return values[variant % len(values)] if values else None
    kinds = [k for k in _types(schema) if k != "null"]
    kind = kinds[0] if kinds else None
    if kind == "object":
        props = schema.get("properties") or {}
        out = {key: sample(sub, variant, key) for key, sub in props.items()}
        # required but never described (``algoId``, analytics' snake_case twins): any value
        out.update({key: None for key in schema.get("required", ()) if key not in out})
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict) and not props:
            out["PF_XBTUSD"] = sample(extra, variant, name)
        return out
    if kind == "array":
        items = _merged(schema.get("items") or {})
        for key in ("oneOf", "anyOf"):
            if key in items:
                return _branches(items[key], variant, name)
        return [sample(items, variant, name) for _ in range(max(1, schema.get("minItems", 1)))]
    if kind == "string":
        return _string(schema, name)
    if kind == "integer":
        return 1604937694000 if schema.get("format") == "timestamp-milliseconds" else 7
    if kind == "number":
        return 1.5
    if kind == "boolean":
        return True
    return None
