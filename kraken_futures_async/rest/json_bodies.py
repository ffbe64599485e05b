"""Requests that REST carries as one JSON text in a form field: batches and portfolios.

Numbers are written exactly as their Decimal text, never through a float.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import attrs

from ..operations.account import SimulatePortfolio
from ..operations.orders import BatchRequest, BatchSend, CancelOrder, EditOrder
from .request_encoding import camel_case
from .wire import json_object, json_value

__all__ = ["batch_fields", "batch_json", "portfolio_fields"]


def _camel_fields(request: Any, skip: frozenset[str]) -> list[tuple[str, Any]]:
    return [
        (camel_case(field.name), getattr(request, field.name))
        for field in attrs.fields(type(request))
        if field.name not in skip
    ]


_NOT_IN_BATCH = frozenset({"process_before", "order_id"})


def _instruction(item: BatchSend | EditOrder | CancelOrder) -> list[tuple[str, Any]]:
    # A batch spells an order's id ``order_id`` (``/editorder`` says ``orderId``).
    if isinstance(item, BatchSend):
        return [
            ("order", "send"),
            ("order_tag", item.tag),
            *_camel_fields(item.order, _NOT_IN_BATCH),
        ]
    kind = "edit" if isinstance(item, EditOrder) else "cancel"
    return [("order", kind), ("order_id", item.order_id), *_camel_fields(item, _NOT_IN_BATCH)]


def batch_json(instructions: Iterable[BatchSend | EditOrder | CancelOrder]) -> str:
    """``{"batchOrder":[...]}`` as compact JSON text with exact numbers."""
    orders = (
        json_object(
            (key, json_value(value)) for key, value in _instruction(item) if value is not None
        )
        for item in instructions
    )
    return '{"batchOrder":[' + ",".join(orders) + "]}"


def batch_fields(request: BatchRequest) -> list[tuple[str, Any]]:
    return [("json", batch_json(request.instructions)), ("processBefore", request.process_before)]


def portfolio_fields(request: SimulatePortfolio) -> list[tuple[str, Any]]:
    """``{"positions":[{"instrument":..,"size":..,"entryPrice":..}]}`` with exact numbers."""
    items = (
        json_object(
            (key, json_value(value))
            for key, value in (
                ("instrument", p.instrument),
                ("size", p.size),
                ("entryPrice", p.entry_price),
            )
        )
        for p in request.positions
    )
    return [("json", '{"positions":[' + ",".join(items) + "]}")]
