"""What the engine says happened, as typed events pushed to subscribers.

The engine speaks no protocol: each front end turns these into its own messages (the journal
is written beside them today; a WebSocket face will stream them). Events are emitted in the
order the state changed, synchronously, from inside the call that changed it, so a subscriber
sees the exchange between two events exactly as the events describe it; a subscriber must not
call back into the engine. Times are the venue's clock in seconds, numbers exact Decimals.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import attrs

__all__ = [
    "BalanceChanged",
    "BookChanged",
    "Event",
    "MarkPrice",
    "OrderCancelled",
    "OrderChanged",
    "OrderFilled",
    "OrderPlaced",
    "PositionChanged",
    "Subscriber",
    "Subscribers",
    "Trade",
]


@attrs.frozen
class OrderPlaced:
    """An order now rests in the book, or a trigger now waits for its signal."""

    at: float
    account: str
    order_id: str
    cli_ord_id: str | None
    symbol: str
    side: str
    kind: str
    quantity: Decimal
    filled: Decimal
    limit_price: Decimal | None
    stop_price: Decimal | None
    trigger: bool


@attrs.frozen
class OrderChanged:
    """An open order's terms changed: ``reason`` is ``edited_by_user``, ``reduce_only_trim``
    (a reduce-only order shrunk to the position) or ``triggered`` (a trigger fired and now
    trades as an order with the same id)."""

    at: float
    account: str
    order_id: str
    symbol: str
    reason: str
    quantity: Decimal
    filled: Decimal
    limit_price: Decimal | None
    stop_price: Decimal | None


@attrs.frozen
class OrderCancelled:
    """An order closed without being fully filled; ``status`` is Kraken's (``CANCELLED``,
    ``REJECTED``, ``TRIGGER_ACTIVATION_FAILURE``), ``reason`` the update reason or error."""

    at: float
    account: str
    order_id: str
    symbol: str
    status: str
    reason: str | None
    filled: Decimal


@attrs.frozen
class OrderFilled:
    """One side of an execution on a user's order (``fill_type`` as in the fills endpoint)."""

    at: float
    account: str
    order_id: str
    fill_id: str
    execution_id: str
    symbol: str
    side: str
    price: Decimal
    size: Decimal
    fill_type: str
    remaining: Decimal


@attrs.frozen
class Trade:
    """A user's trade on the public tape (``side`` is the taker's)."""

    at: float
    symbol: str
    trade_id: int
    execution_id: str
    price: Decimal
    size: Decimal
    side: str


@attrs.frozen
class BookChanged:
    """The users' part of a contract's book changed: ``what`` is ``added``, ``removed``,
    ``changed`` (an edit) or ``traded``; ``order_id`` the order concerned, if one."""

    at: float
    symbol: str
    what: str
    order_id: str | None


@attrs.frozen
class PositionChanged:
    """An account's position in a contract after a fill (``size`` signed; 0 and no entry
    ``price`` when flat)."""

    at: float
    account: str
    symbol: str
    size: Decimal
    price: Decimal | None


@attrs.frozen
class BalanceChanged:
    """An account's wallet balance after a fill or a transfer (``wallet`` is ``flex``,
    ``cash`` or a coin-margined account's name, ``currency`` as that wallet keys it)."""

    at: float
    account: str
    wallet: str
    currency: str
    balance: Decimal


@attrs.frozen
class MarkPrice:
    """A contract's mark at a whole second the venue replayed for it."""

    at: float
    symbol: str
    mark: Decimal


Event = (
    OrderPlaced
    | OrderChanged
    | OrderCancelled
    | OrderFilled
    | Trade
    | BookChanged
    | PositionChanged
    | BalanceChanged
    | MarkPrice
)
Subscriber = Callable[[Event], None]


class Subscribers:
    """The engine's subscriber registry: every event goes to each subscriber in turn."""

    __slots__ = ("_callbacks",)

    def __init__(self) -> None:
        self._callbacks: list[Subscriber] = []

    def __bool__(self) -> bool:
        return bool(self._callbacks)

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Add ``callback``; the returned function removes it again (twice is harmless)."""
        self._callbacks.append(callback)

        def unsubscribe() -> None:
            if callback in self._callbacks:
                self._callbacks.remove(callback)

        return unsubscribe

    def emit(self, event: Event) -> None:
        for callback in tuple(self._callbacks):
            callback(event)
