"""Request parameters off the wire (query strings, form and JSON bodies), in linear time.

Clients send ``key=value`` pairs joined by ``&``. ccxt and Kraken's old sample send the batch
order's JSON unencoded (``json={"batchOrder":[...]}``), so its ``&``, ``+`` or ``%`` must not be
taken for form syntax: the first ``json`` value that starts a JSON text is read as one JSON
text if it parses whole. By design a query or body costs at most one regular-expression scan,
one JSON parse and two passes of the standard form parser, each linear in its size, however
the bytes are arranged (the old loop rescanned to the end for every ``&``: issue 17).
"""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qsl

from .._json import dumps, loads
from ..errors import ExchangeError

__all__ = ["group", "json_pairs", "parse_pairs"]

_decoder = json.JSONDecoder()
#: Where a raw JSON ``json`` value starts (``batchorder``'s field, sent unencoded).
_RAW_JSON = re.compile(r"(?:^|&)json=(?=[\[{])")


def _raw_json_end(text: str, start: int) -> int | None:
    """Where the JSON text at ``start`` ends, if it ends a pair there; None otherwise."""
    try:
        _, end = _decoder.raw_decode(text, start)
    except (ValueError, RecursionError):  # not JSON, or nested past the parser's depth
        return None
    return end if end == len(text) or text[end] == "&" else None


def _plain(text: str) -> list[tuple[str, str]]:
    return parse_qsl(text, keep_blank_values=True) if text else []


def parse_pairs(raw: bytes) -> list[tuple[str, str]]:
    """Form or query pairs in wire order; blank values kept; a raw ``json={...}`` kept whole."""
    if not raw:
        return []
    text = raw.decode("utf-8", errors="replace")
    found = _RAW_JSON.search(text) if "{" in text or "[" in text else None
    if found is None:
        return _plain(text)
    start = found.end()
    end = _raw_json_end(text, start)
    if end is None:  # not JSON after all: an ordinary form value
        return _plain(text)
    raw_json = ("json", text[start:end])
    return [*_plain(text[: found.start()]), raw_json, *_plain(text[end + 1 :])]


def json_pairs(raw: bytes) -> list[tuple[str, str]]:
    """An ``application/json`` object body as pairs: strings as they are, other values as JSON.

    Kraken's RFQ offer calls take ``{"bid": 100.5, ...}``; the engine sees ``bid=100.5``.
    """
    value = loads(raw)
    if not isinstance(value, dict):
        raise ExchangeError("Json Parse Error")
    pairs: list[tuple[str, str]] = []
    for key, item in value.items():
        if item is None:
            continue
        if isinstance(item, str):
            pairs.append((key, item))
        elif isinstance(item, bool):
            pairs.append((key, "true" if item else "false"))
        else:
            pairs.append((key, dumps(item).decode()))
    return pairs


def group(pairs: list[tuple[str, str]], path_params: dict[str, str]) -> dict[str, list[str]]:
    """Pairs as the engine takes them: each name with its values in order, path values last."""
    params: dict[str, list[str]] = {}
    for key, value in pairs:
        values = params.get(key)
        if values is None:
            params[key] = [value]
        else:
            values.append(value)
    for key, value in path_params.items():
        params.setdefault(key, []).append(value)
    return params
