"""The history API's public market listings: executions, order events and mark prices.

Executions are the users' (from the journal, every order in the reduced public form) merged
with the makers' background trades, which, like the mark price, are functions of time and are
computed for the window asked. Order events are the users' placements, updates and cancels,
merged the same way with the makers' own: each background trade's two orders placed, then
filled in full (as Kraken lists other traders' orders).
Mark prices are listed once a second. Computed listings reach back to the contract's listing
date; one page looks at most ``SCAN`` seconds of time and then hands out a token to go on.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from typing import Any

from ..errors import ExchangeError, Reason
from .book import Market
from .history_shapes import public_order, text
from .instruments import InstrumentSpec
from .journal import Record
from .paging import Key, Window, page, token
from .params import Params
from .quotes import BackgroundTrade
from .venue import Venue

__all__ = ["SCAN", "MarketHistory"]

#: Seconds of computed history one page looks through.
SCAN = 6 * 3600
_Item = tuple[Key, dict[str, Any]]
_PLACED = "new_placed_order_by_user"
#: Below every key a second's computed items use (they are ``(ms, -4)`` to ``(ms, 0)``).
_BEFORE_MAKERS = -(2**31)


def _maker_order(spec: InstrumentSpec, trade: BackgroundTrade, role: str) -> dict[str, Any]:
    """One side of the makers' trade as a public order, as placed (nothing filled yet)."""
    when = trade.second * 1000
    taker_buys = trade.side == "buy"
    buys = taker_buys if role == "taker" else not taker_buys
    return {
        "uid": str(uuid.uuid5(uuid.NAMESPACE_OID, f"{trade.uid}/{role}")),
        "tradeable": spec.symbol,
        "direction": "Buy" if buys else "Sell",
        "quantity": text(trade.size),
        "timestamp": when,
        "limitPrice": text(trade.price),
        "orderType": "Limit" if role == "maker" else "IoC",
        "reduceOnly": False,
        "lastUpdateTimestamp": when,
    }


def _sanitized(record: Record) -> dict[str, Any]:
    """A journal element with every order in its public form and no account data."""
    element = record.element
    ((name, body),) = element["event"].items()
    if name == "Execution":
        execution = body["execution"]
        public = {
            key: value
            for key, value in execution.items()
            if key not in ("makerOrderData", "takerOrderData")
        }
        public["makerOrder"] = public_order(execution["makerOrder"])
        public["takerOrder"] = public_order(execution["takerOrder"])
        event: dict[str, Any] = {name: {**body, "execution": public}}
    else:
        event = {
            name: {
                key: public_order(value) if key in ("order", "oldOrder", "newOrder") else value
                for key, value in body.items()
            }
        }
    return {"uid": element["uid"], "timestamp": element["timestamp"], "event": event}


class MarketHistory:
    def __init__(self, venue: Venue) -> None:
        self._venue = venue

    def _spec(self, params: Params) -> InstrumentSpec:
        spec = self._venue.spec_for(params.required("tradeable"))
        if spec is None:
            raise ExchangeError("invalidArgument", reason=Reason.INVALID_ARGUMENT)
        return spec

    @staticmethod
    def _answer(elements: list[dict[str, Any]], next_token: str | None) -> dict[str, Any]:
        body: dict[str, Any] = {"len": len(elements), "elements": elements}
        if next_token is not None:
            body["continuationToken"] = next_token
        return body

    def market_orders(self, params: Params) -> dict[str, Any]:
        """The users' order events merged with the makers' (placed, then filled) by time."""
        spec = self._spec(params)
        window = Window.read(params)
        seconds, resume = self._seconds(spec, window)
        if resume is not None:  # several maker events share a millisecond: resume past all
            resume = (resume[0], _BEFORE_MAKERS)
        market = self._venue.market(spec.symbol)
        users = self._users(self._venue.journal.market_orders.get(spec.symbol, ()), seconds)
        if not window.ascending:
            users.reverse()

        def makers(second: int) -> list[_Item]:
            events = self._maker_orders(market, second)
            return events if window.ascending else events[::-1]

        return self._computed(window, seconds, resume, self._merged(window, seconds, users, makers))

    # computed listings --------------------------------------------------------------------

    def _seconds(self, spec: InstrumentSpec, window: Window) -> tuple[list[int], Key | None]:
        """The seconds this page looks at, in order, and the key to resume from after them."""
        low = max(math.ceil(spec.opening), 0)
        if window.since is not None:
            low = max(low, -(-window.since // 1000))
        high = math.floor(self._venue.now)
        if window.before is not None:
            high = min(high, (window.before - 1) // 1000)
        if window.after is not None:
            start_ms = window.after[0]
            if window.ascending:
                low = max(low, start_ms // 1000)
            else:
                high = min(high, start_ms // 1000)
        if high < low:
            return [], None
        if window.ascending:
            top = min(high, low + SCAN - 1)
            resume = None if top >= high else ((top + 1) * 1000, -1)
            return list(range(low, top + 1)), resume
        bottom = max(low, high - SCAN + 1)
        resume = None if bottom <= low else (bottom * 1000, -1)
        return list(range(high, bottom - 1, -1)), resume

    def _computed(
        self, window: Window, seconds: list[int], resume: Key | None, items: Iterator[_Item]
    ) -> dict[str, Any]:
        elements, next_token = page(items, window, lambda item: item[0], lambda item: item[1])
        if next_token is None and resume is not None and seconds:
            next_token = token(resume)
        return self._answer(elements, next_token)

    def market_prices(self, params: Params) -> dict[str, Any]:
        spec = self._spec(params)
        window = Window.read(params)
        seconds, resume = self._seconds(spec, window)
        prices = self._venue.prices

        def items() -> Iterator[_Item]:
            for second in seconds:
                price = text(prices.mark(spec, second))
                yield (
                    (second * 1000, 0),
                    {
                        "uid": "",
                        "timestamp": second * 1000,
                        "event": {"price": price},
                    },
                )

        return self._computed(window, seconds, resume, items())

    def market_executions(self, params: Params) -> dict[str, Any]:
        spec = self._spec(params)
        window = Window.read(params)
        seconds, resume = self._seconds(spec, window)
        market = self._venue.market(spec.symbol)
        users = self._users(self._venue.journal.market_executions.get(spec.symbol, ()), seconds)
        if not window.ascending:
            users.reverse()

        def background(second: int) -> list[_Item]:
            trade = self._background(market, second)
            return [] if trade is None else [((second * 1000, 0), trade)]

        return self._computed(
            window, seconds, resume, self._merged(window, seconds, users, background)
        )

    @staticmethod
    def _users(records: Iterable[Record], seconds: list[int]) -> list[Record]:
        """The users' records inside the seconds a page looks at, oldest first."""
        scanned = (min(seconds) * 1000, (max(seconds) + 1) * 1000) if seconds else (0, 0)
        return [record for record in records if scanned[0] <= record.key[0] < scanned[1]]

    @staticmethod
    def _merged(
        window: Window,
        seconds: list[int],
        users: list[Record],
        computed: Callable[[int], list[_Item]],
    ) -> Iterator[_Item]:
        """Users' records and each second's computed items in the listing's order.

        Computed items sort at the start of their second (keys ``(ms, <= 0)``), before any
        user's record of that millisecond (``(ms, seq >= 1)``).
        """
        pending = iter(users)
        user = next(pending, None)
        for second in seconds:
            edge = (second * 1000, 0)
            while user is not None and (user.key < edge if window.ascending else user.key > edge):
                yield user.key, _sanitized(user)
                user = next(pending, None)
            yield from computed(second)
        while user is not None:
            yield user.key, _sanitized(user)
            user = next(pending, None)

    def _maker_orders(self, market: Market, second: int) -> list[_Item]:
        """The makers' order events of their trade at ``second``, oldest first (none if none).

        Both orders of the trade are shown as another user's orders are: the resting maker
        order placed, the taker's IoC placed, then each filled in full (remaining ``"0"``).
        """
        found = self._trade(market, second)
        if found is None:
            return []
        trade = found[0]
        when = second * 1000
        maker, taker = (_maker_order(market.spec, trade, role) for role in ("maker", "taker"))
        events: list[tuple[str, dict[str, Any]]] = [
            ("OrderPlaced", {"order": maker, "reason": _PLACED, "reducedQuantity": ""}),
            ("OrderPlaced", {"order": taker, "reason": _PLACED, "reducedQuantity": ""}),
        ]
        for placed in (taker, maker):
            filled = {**placed, "quantity": "0"}
            body = {"oldOrder": placed, "newOrder": filled, "reason": "full_fill"}
            events.append(("OrderUpdated", {**body, "reducedQuantity": ""}))
        items: list[_Item] = []
        for index, (name, body) in enumerate(events):
            uid = str(uuid.uuid5(uuid.NAMESPACE_OID, f"{trade.uid}/order-event/{index}"))
            element = {"uid": uid, "timestamp": when, "event": {name: body}}
            items.append(((when, index - len(events)), element))
        return items

    def _trade(self, market: Market, second: int) -> tuple[BackgroundTrade, Decimal] | None:
        """The makers' trade at ``second`` and the mark then, if they traded then."""
        quoter = market.quoter
        if not quoter.trades_at(second):
            return None
        _, mark, mark_f = self._venue.prices.quote(market.spec, second)
        return quoter.background_trade(second, mark_f), mark

    def _background(self, market: Market, second: int) -> dict[str, Any] | None:
        """The makers' trade at ``second`` as a public execution, if they traded then."""
        found = self._trade(market, second)
        if found is None:
            return None
        trade, mark = found
        spec = market.spec
        size, price = trade.size, trade.price
        when = second * 1000
        # both orders are filled in full by the trade: nothing of either remains
        maker, taker = (
            {**_maker_order(spec, trade, role), "quantity": "0"} for role in ("maker", "taker")
        )
        execution = {
            "uid": trade.uid,
            "makerOrder": maker,
            "takerOrder": taker,
            "timestamp": when,
            "quantity": text(size),
            "price": text(price),
            "markPrice": text(mark),
            "limitFilled": False,
            "usdValue": text(size if spec.inverse else size * price),
        }
        event = {"Execution": {"execution": execution, "takerReducedQuantity": ""}}
        return {"uid": trade.uid, "timestamp": when, "event": event}
