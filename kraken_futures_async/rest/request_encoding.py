"""Typed requests in REST's wire form: names, time formats, path parameters, JSON bodies.

A request field travels under its camelCase name (``cli_ord_id`` as ``cliOrdId``), or its own
name on rows that spell parameters in snake case (the history API) or where it is a
``{placeholder}`` of the row's path, unless the row names it otherwise; a field whose wire
name is a placeholder goes into the path. ``None`` leaves a parameter out. The library's
own ``processBefore`` is only written when the request leaves (``now`` given), so that time
spent waiting for the budget never eats into it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Any

import attrs

from ..operations.orders import EditOrder, OwnDeadline, SendOrder
from .endpoint_rows import Endpoint, ParamsIn, TimeForm
from .wire import json_value, wire_value

__all__ = ["camel_case", "encode_request", "stamps_on_sending"]

_PLACEHOLDER = re.compile(r"{(\w+)}")

#: Per (row, request type): (field, wire name, goes in the path) in field order.
_Plan = tuple[tuple[str, str, bool], ...]
_PLANS: dict[tuple[str, type], _Plan] = {}


def camel_case(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def _plan(row: Endpoint, request_type: type) -> _Plan:
    key = (row.name, request_type)
    plan = _PLANS.get(key)
    if plan is None:
        in_path = set(_PLACEHOLDER.findall(row.path))
        steps = []
        for field in attrs.fields(request_type):
            wire = row.wire_names.get(field.name)
            if wire is None and field.name in in_path:
                wire = field.name
            if wire is None:
                wire = field.name if row.snake_case else camel_case(field.name)
            steps.append((field.name, wire, wire in in_path))
        plan = _PLANS[key] = tuple(steps)
    return plan


def stamps_on_sending(request: Any) -> bool:
    """Whether the request carries the library's own ``processBefore``, set on each attempt."""
    return isinstance(request, SendOrder | EditOrder) and isinstance(
        request.process_before, OwnDeadline
    )


def _time(row: Endpoint, value: dt.datetime) -> int | dt.datetime:
    if row.times is TimeForm.EPOCH_MS:
        return int(value.timestamp() * 1000)
    if row.times is TimeForm.EPOCH_S:
        return int(value.timestamp())
    return value


def encode_request(
    row: Endpoint, request: Any, *, now: dt.datetime | None = None
) -> tuple[list[tuple[str, str]], dict[str, str] | None]:
    """The request's wire pairs (in field order) and its path parameters (None: none)."""
    if row.encode is not None:
        return _pairs(row, row.encode(request), now), None
    named: list[tuple[str, Any]] = []
    path: dict[str, str] | None = None
    for field, wire, in_path in _plan(row, type(request)):
        value = getattr(request, field)
        if in_path:
            path = {} if path is None else path
            path[wire] = wire_value(value)
        else:
            named.append((wire, value))
    return _pairs(row, named, now), path


def _pairs(
    row: Endpoint, named: Iterable[tuple[str, Any]], now: dt.datetime | None
) -> list[tuple[str, str]]:
    as_text = json_value if row.params_in is ParamsIn.JSON else wire_value
    pairs: list[tuple[str, str]] = []
    for wire, value in named:
        if isinstance(value, OwnDeadline):
            if now is None:
                continue
            value = value.stamp(now)
        if value is None:
            continue
        if isinstance(value, dt.datetime):
            value = _time(row, value)
        if isinstance(value, list | tuple):
            pairs.extend((wire, as_text(item)) for item in value)
        else:
            pairs.append((wire, as_text(value)))
    return pairs
