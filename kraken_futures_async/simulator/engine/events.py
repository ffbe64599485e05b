"""What the engine says happened, as typed events pushed to subscribers.

The engine speaks no protocol: each front end turns these into its own messages. The journal
(the history API's and the account log's source) is one subscriber, the WebSocket face's
channels another. Events are emitted in the order the state changed, synchronously, from
inside the call that changed it, so a subscriber sees the exchange between two events exactly
as the events describe it; a subscriber must not call back into the engine. Times are the
venue's clock in seconds, numbers exact Decimals.

Order events carry ``order``, a copy of the order as it stood after the change (and
``before`` where the change has one), for subscribers that render whole orders; the copies
are left out of equality and repr, so an event compares by its facts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal

import attrs

from .orders import Order

__all__ = [
    "BalanceChanged",
    "BookChanged",
    "Event",
    "Executed",
    "ExecutionSide",
    "MarkPrice",
    "OrderCancelled",
    "OrderChanged",
    "OrderFilled",
    "OrderPlaced",
    "OrderRested",
    "PositionChanged",
    "Settlement",
    "Subscriber",
    "Subscribers",
    "Trade",
    "Transfer",
    "TriggerFired",
]


@attrs.frozen
class OrderPlaced:
    """The venue accepted an order: it now takes liquidity, rests, or waits for its trigger."""

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
    #: How much an edit took off a reduce-only order's size, if it did.
    reduced: Decimal | None = attrs.field(default=None, kw_only=True)
    before: Order = attrs.field(kw_only=True, eq=False, repr=False)
    order: Order = attrs.field(kw_only=True, eq=False, repr=False)


@attrs.frozen
class OrderRested:
    """An order entered the book (after any immediate fills) or a trigger began to wait."""

    at: float
    order_id: str
    order: Order = attrs.field(eq=False, repr=False)


@attrs.frozen
class TriggerFired:
    """A trigger's signal crossed its stop; ``order`` is the trigger as it waited.

    An ``OrderChanged`` with reason ``triggered`` follows when it became an order, an
    ``OrderCancelled`` when it could not (``TRIGGER_ACTIVATION_FAILURE``)."""

    at: float
    order_id: str
    order: Order = attrs.field(eq=False, repr=False)


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
    order: Order = attrs.field(kw_only=True, eq=False, repr=False)


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
class Settlement:
    """What one side of an execution did to its account: the position before and after, the
    wallet it settles in (``wallet``, ``currency``) before and after, and why it moved
    (realised PnL, funding realised on the way, the fee at ``fee_rate``)."""

    old_size: Decimal
    old_price: Decimal | None
    new_size: Decimal
    new_price: Decimal | None
    wallet: str
    currency: str
    old_balance: Decimal
    new_balance: Decimal
    realised: Decimal
    funding: Decimal
    fee: Decimal
    fee_rate: Decimal


@attrs.frozen
class ExecutionSide:
    """A user's order in an execution: as it stood before and after, and its settlement."""

    fill_type: str
    before: Order = attrs.field(eq=False, repr=False)
    after: Order = attrs.field(eq=False, repr=False)
    settlement: Settlement


@attrs.frozen
class Executed:
    """One execution with everything it did, after every ``OrderFilled`` it caused: a side
    without a user's order (``None``) is the simulated makers'."""

    at: float
    symbol: str
    execution_id: str
    price: Decimal
    size: Decimal
    mark: Decimal
    #: Whether the contract is inverse (sized in USD, settled in a coin).
    inverse: bool
    taker: ExecutionSide | None
    maker: ExecutionSide | None


@attrs.frozen
class Transfer:
    """A wallet moved by a transfer or a withdrawal (``info`` says which), not by a trade."""

    at: float
    account: str
    asset: str
    wallet: str
    old: Decimal
    new: Decimal
    info: str


@attrs.frozen
class BookChanged:
    """The users' part of a contract's book changed: ``what`` is ``added``, ``removed``,
    ``changed`` (an edit) or ``traded``; ``order_id`` the order concerned, if one. A mirror
    also says ``mirrored`` when its source's book, trades or prices moved."""

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
    | OrderRested
    | TriggerFired
    | OrderChanged
    | OrderCancelled
    | OrderFilled
    | Executed
    | Transfer
    | Trade
    | BookChanged
    | PositionChanged
    | BalanceChanged
    | MarkPrice
)
Subscriber = Callable[[Event], None]


class Subscribers:
    """The engine's subscriber registry: each event goes to every subscriber that wants its
    kind, in the order they subscribed.

    The venue asks :meth:`wants` before it builds an event, so a kind nobody listens to costs
    nothing (the journal, always subscribed, wants only the kinds it writes down).
    """

    __slots__ = ("_everything", "_kinds", "_subscribers")

    def __init__(self) -> None:
        self._subscribers: list[tuple[Subscriber, frozenset[type] | None]] = []
        self._everything = 0
        self._kinds: dict[type, int] = {}

    def wants(self, kind: type) -> bool:
        """Whether any subscriber hears events of ``kind``."""
        return self._everything > 0 or kind in self._kinds

    def subscribe(
        self, callback: Subscriber, kinds: Iterable[type] | None = None
    ) -> Callable[[], None]:
        """Add ``callback`` for ``kinds`` (every kind when None); the returned function
        removes it again (twice is harmless)."""
        entry = (callback, None if kinds is None else frozenset(kinds))
        self._subscribers.append(entry)
        self._count(entry[1], +1)

        def unsubscribe() -> None:
            if entry in self._subscribers:
                self._subscribers.remove(entry)
                self._count(entry[1], -1)

        return unsubscribe

    def _count(self, kinds: frozenset[type] | None, step: int) -> None:
        if kinds is None:
            self._everything += step
            return
        for kind in kinds:
            left = self._kinds.get(kind, 0) + step
            if left:
                self._kinds[kind] = left
            else:
                del self._kinds[kind]

    def emit(self, event: Event) -> None:
        kind = type(event)
        for callback, kinds in tuple(self._subscribers):
            if kinds is None or kind in kinds:
                callback(event)
