"""A typed builder for ``batchorder``: send, edit and cancel instructions in one request.

Each instruction is checked by the same rules as its single-order call when it is added, so a
bad item fails locally, before the batch is sent. The batch travels as a JSON text in the form
field ``json``; numbers are written exactly as their Decimal text.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..errors import InvalidArgumentError
from ..models.enums import OrderType, Side, TrailingStopDeviationUnit, TriggerSignal
from ..rest.wire import json_object, json_value
from ._order_args import (
    Number,
    check_one_id,
    edit_changes,
    send_order_params,
)

__all__ = ["MAX_BATCH_SIZE", "BatchOrder", "batch_json"]

#: Kraken documents no limit; larger batches cost more than separate requests gain.
MAX_BATCH_SIZE = 100

# What a batch ``send`` accepts (Kraken's batch schema has no offsets, broker or mkt orders).
_BATCH_SEND_TYPES = frozenset(
    {
        OrderType.LIMIT,
        OrderType.POST_ONLY,
        OrderType.IMMEDIATE_OR_CANCEL,
        OrderType.STOP,
        OrderType.TAKE_PROFIT,
        OrderType.TRAILING_STOP,
        OrderType.FILL_OR_KILL,
    }
)


def batch_json(items: list[dict[str, Any]]) -> str:
    """``{"batchOrder":[...]}`` as compact JSON text with exact numbers."""
    orders = (json_object((k, json_value(v)) for k, v in i.items() if v is not None) for i in items)
    return '{"batchOrder":[' + ",".join(orders) + "]}"


class BatchOrder:
    """Collects instructions; pass it to :meth:`OrdersResource.batch`.

    Sends get an ``order_tag`` (their position, unless given) and a generated ``cli_ord_id``
    so that every result can be matched back and every order found again.
    """

    def __init__(self) -> None:
        self._items: list[dict[str, Any]] = []

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self._items)

    def _add(self, item: dict[str, Any]) -> BatchOrder:
        if len(self._items) >= MAX_BATCH_SIZE:
            raise InvalidArgumentError(f"a batch holds at most {MAX_BATCH_SIZE} instructions")
        self._items.append(item)
        return self

    def send(
        self,
        *,
        symbol: str,
        side: Side | str,
        size: Number,
        order_type: OrderType | str = OrderType.LIMIT,
        limit_price: Number | None = None,
        stop_price: Number | None = None,
        trigger_signal: TriggerSignal | str | None = None,
        reduce_only: bool | None = None,
        cli_ord_id: str | None = None,
        trailing_stop_max_deviation: Number | None = None,
        trailing_stop_deviation_unit: TrailingStopDeviationUnit | str | None = None,
        tag: str | None = None,
    ) -> BatchOrder:
        params = send_order_params(
            symbol=symbol,
            side=side,
            size=size,
            order_type=order_type,
            limit_price=limit_price,
            stop_price=stop_price,
            trigger_signal=trigger_signal,
            reduce_only=reduce_only,
            cli_ord_id=cli_ord_id,
            trailing_stop_max_deviation=trailing_stop_max_deviation,
            trailing_stop_deviation_unit=trailing_stop_deviation_unit,
        )
        if params["orderType"] not in _BATCH_SEND_TYPES:
            raise InvalidArgumentError(
                f"a batch cannot send a {params['orderType'].value} order; use orders.send"
            )
        order_tag = tag if tag is not None else str(len(self._items) + 1)
        return self._add({"order": "send", "order_tag": order_tag, **params})

    def edit(
        self,
        *,
        order_id: str | None = None,
        cli_ord_id: str | None = None,
        size: Number | None = None,
        limit_price: Number | None = None,
        stop_price: Number | None = None,
    ) -> BatchOrder:
        check_one_id(order_id, cli_ord_id)
        changes = edit_changes(size=size, limit_price=limit_price, stop_price=stop_price)
        # Batch edits spell the id ``order_id`` (``/editorder`` says ``orderId``).
        return self._add({"order": "edit", "order_id": order_id, "cliOrdId": cli_ord_id, **changes})

    def cancel(self, *, order_id: str | None = None, cli_ord_id: str | None = None) -> BatchOrder:
        check_one_id(order_id, cli_ord_id)
        return self._add({"order": "cancel", "order_id": order_id, "cliOrdId": cli_ord_id})
