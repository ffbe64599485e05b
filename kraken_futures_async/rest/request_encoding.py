"""Typed requests in REST's wire form: names, time formats, path parameters, JSON bodies.

A request field travels under its camelCase name (``cli_ord_id`` as ``cliOrdId``), or its own
name on rows that spell parameters in snake case (the history API) or where it is a
``{placeholder}`` of the row's path, unless the row names it otherwise; a field whose wire
name is a placeholder goes into the path. ``None`` leaves a parameter out. The library's
own ``processBefore`` is only written when the request leaves (the :data:`Stamper` adds it
to the pairs encoded once), so that time spent waiting for the budget never eats into it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from typing import Any

import attrs

from ..operations.orders import OwnDeadline
from .endpoint_rows import Endpoint, ParamsIn, TimeForm
from .wire import json_value, wire_value

__all__ = ["Stamper", "camel_case", "encode_request"]

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


def _time(row: Endpoint, value: dt.datetime) -> int | dt.datetime:
    if row.times is TimeForm.EPOCH_MS:
        return int(value.timestamp() * 1000)
    if row.times is TimeForm.EPOCH_S:
        return int(value.timestamp())
    return value


#: Gives a request's wire pairs with the library's ``processBefore`` stamped at a time.
Stamper = Callable[[dt.datetime], list[tuple[str, str]]]


def encode_request(
    row: Endpoint, request: Any
) -> tuple[list[tuple[str, str]], dict[str, str] | None, Stamper | None]:
    """The wire pairs without the library's own ``processBefore``, the path parameters, and
    the :data:`Stamper` that adds it where its field goes: each attempt of an order stamps
    its deadline without encoding the whole request again."""
    named: list[tuple[str, Any]] = []
    path: dict[str, str] | None = None
    if row.encode is not None:
        named.extend(row.encode(request))
    else:
        for field, wire, in_path in _plan(row, type(request)):
            value = getattr(request, field)
            if in_path:
                path = {} if path is None else path
                path[wire] = wire_value(value)
            else:
                named.append((wire, value))
    pairs, deadline = _pairs(row, named)
    if deadline is None:
        return pairs, path, None
    at, wire, own = deadline

    def stamped(now: dt.datetime) -> list[tuple[str, str]]:
        return [*pairs[:at], *_encoded(row, wire, own.stamp(now)), *pairs[at:]]

    return pairs, path, stamped


def _encoded(row: Endpoint, wire: str, value: Any) -> list[tuple[str, str]]:
    """One field's wire pairs (several for a list, none for ``None``)."""
    if value is None:
        return []
    as_text = json_value if row.params_in is ParamsIn.JSON else wire_value
    if isinstance(value, dt.datetime):
        value = _time(row, value)
    if isinstance(value, list | tuple):
        return [(wire, as_text(item)) for item in value]
    return [(wire, as_text(value))]


def _pairs(
    row: Endpoint, named: Iterable[tuple[str, Any]]
) -> tuple[list[tuple[str, str]], tuple[int, str, OwnDeadline] | None]:
    """The pairs, and where the library's own deadline goes (index, wire name, deadline)."""
    pairs: list[tuple[str, str]] = []
    deadline: tuple[int, str, OwnDeadline] | None = None
    for wire, value in named:
        if value is None:  # most of an order's fields: checked first, cheaply
            continue
        if isinstance(value, OwnDeadline):
            deadline = (len(pairs), wire, value)
        else:
            pairs.extend(_encoded(row, wire, value))
    return pairs, deadline
