"""A builder for batches: send, edit and cancel instructions in one request.

Each instruction is checked when it is added, by the same request classes as the single
calls (plus what a batch refuses), so a bad item fails locally, before the batch is sent.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..errors import InvalidArgumentError
from ..models.enums import OrderType, Side, TrailingStopDeviationUnit, TriggerSignal
from ..operations.checks import Number
from ..operations.orders import (
    MAX_BATCH_SIZE,
    BatchInstruction,
    BatchSend,
    CancelOrder,
    EditOrder,
    SendOrder,
    check_batch_instruction,
)

__all__ = ["MAX_BATCH_SIZE", "BatchOrder"]


class BatchOrder:
    """Collects instructions; pass it to :meth:`OrdersResource.batch`.

    Sends get a tag (their position, unless given) and a generated ``cli_ord_id`` so that
    every result can be matched back and every order found again.
    """

    def __init__(self) -> None:
        self._items: list[BatchInstruction] = []

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[BatchInstruction]:
        return iter(self._items)

    def _add(self, item: BatchInstruction) -> BatchOrder:
        if len(self._items) >= MAX_BATCH_SIZE:
            raise InvalidArgumentError(f"a batch holds at most {MAX_BATCH_SIZE} instructions")
        check_batch_instruction(item)
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
        """Add a new order to the batch, checked now as ``kf.orders.send`` checks it; returns
        the batch, for chaining."""
        order = SendOrder(
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
        return self._add(BatchSend(tag if tag is not None else str(len(self) + 1), order))

    def edit(
        self,
        *,
        order_id: str | None = None,
        cli_ord_id: str | None = None,
        size: Number | None = None,
        limit_price: Number | None = None,
        stop_price: Number | None = None,
    ) -> BatchOrder:
        """Add an edit of an open order to the batch, checked now; returns the batch, for
        chaining."""
        return self._add(
            EditOrder(
                order_id=order_id,
                cli_ord_id=cli_ord_id,
                size=size,
                limit_price=limit_price,
                stop_price=stop_price,
            )
        )

    def cancel(self, *, order_id: str | None = None, cli_ord_id: str | None = None) -> BatchOrder:
        """Add a cancel (by order id or client order id) to the batch; returns the batch, for
        chaining."""
        return self._add(CancelOrder(order_id=order_id, cli_ord_id=cli_ord_id))
