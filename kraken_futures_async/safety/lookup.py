"""What order safety asks a backend: where is this order, and what became of it?"""

from __future__ import annotations

import datetime as dt
from typing import Protocol

import attrs

from ..models import Fill, OrderStatus
from ..models.history import OrderCancelled, OrderPlaced, OrderRejected, OrderUpdated

__all__ = ["OrderLookup", "OrderRecord", "OrderTrace"]

#: An order-history event that settles what became of an order request.
OrderRecord = OrderPlaced | OrderRejected | OrderCancelled | OrderUpdated


@attrs.frozen
class OrderTrace:
    """What the exchange shows of one order: its state, its fills, and whether that is all."""

    status: OrderStatus | None
    fills: tuple[Fill, ...]
    #: The fills searched reach back to the time asked for, so "no fill" means none exists.
    complete: bool
    #: Incomplete for good: asked after the order's deadline, this lookup will never learn
    #: more (a WebSocket's view after a dropped socket), so waiting for it is pointless.
    final: bool = False

    @property
    def found(self) -> bool:
        return self.status is not None or bool(self.fills)


class OrderLookup(Protocol):
    """A backend's way of finding an order by its client order id (or its id)."""

    async def status(self, *, cli_ord_id: str | None, order_id: str | None) -> OrderStatus | None:
        """The order's current state, if the exchange still shows it (open, or just closed)."""
        ...

    async def trace(
        self, *, cli_ord_id: str | None, order_id: str | None, since: dt.datetime | None
    ) -> OrderTrace:
        """Its state, or else its fills since ``since`` (without it: the latest ones)."""
        ...

    async def recorded(self, cli_ord_id: str, since: dt.datetime) -> OrderRecord | None:
        """The exchange's own record of the order since ``since`` (placed, refused, ...),
        or None when there is none or the backend keeps no such record."""
        ...
