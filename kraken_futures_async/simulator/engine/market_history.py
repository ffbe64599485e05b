"""The history API's public market listings: executions, order events and mark prices.

Executions are the users' (from the journal, every order in the reduced public form) merged
with the makers' background trades, which, like the mark price, are functions of time and are
computed for the window asked. Order events are the users' placements, updates and cancels.
Mark prices are listed once a second. Computed listings reach back to the contract's listing
date; one page looks at most ``SCAN`` seconds of time and then hands out a token to go on.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterator
from typing import Any

from ..errors import ExchangeError, Reason
from .book import Market
from .history_shapes import public_order, text
from .instruments import InstrumentSpec
from .journal import Record
from .paging import Key, Window, page, token
from .params import Params
from .venue import Venue

__all__ = ["SCAN", "MarketHistory"]

#: Seconds of computed history one page looks through.
SCAN = 6 * 3600
_Item = tuple[Key, dict[str, Any]]


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
        spec = self._spec(params)
        window = Window.read(params)
        records = list(self._venue.journal.market_orders.get(spec.symbol, ()))
        ordered = records if window.ascending else list(reversed(records))
        elements, next_token = page(ordered, window, lambda r: r.key, _sanitized)
        return self._answer(elements, next_token)

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
        scanned = (min(seconds) * 1000, (max(seconds) + 1) * 1000) if seconds else (0, 0)
        users = [
            record
            for record in self._venue.journal.market_executions.get(spec.symbol, ())
            if scanned[0] <= record.key[0] < scanned[1]
        ]
        if not window.ascending:
            users.reverse()

        def items() -> Iterator[_Item]:
            pending = iter(users)
            user = next(pending, None)
            for second in seconds:
                # the users' executions that come before this second's background trade
                while user is not None and (
                    user.key < (second * 1000, 0)
                    if window.ascending
                    else user.key > (second * 1000, 0)
                ):
                    yield user.key, _sanitized(user)
                    user = next(pending, None)
                background = self._background(market, second)
                if background is not None:
                    yield (second * 1000, 0), background
            while user is not None:
                yield user.key, _sanitized(user)
                user = next(pending, None)

        return self._computed(window, seconds, resume, items())

    def _background(self, market: Market, second: int) -> dict[str, Any] | None:
        """The makers' trade at ``second`` as a public execution, if they traded then."""
        quoter = market.quoter
        if not quoter.trades_at(second):
            return None
        spec = market.spec
        _, mark, mark_f = self._venue.prices.quote(spec, second)
        trade = quoter.background_trade(second, mark_f)
        size, price = trade.size, trade.price
        when = second * 1000

        def order(role: str, direction: str) -> dict[str, Any]:
            return {
                "uid": str(uuid.uuid5(uuid.NAMESPACE_OID, f"{trade.uid}/{role}")),
                "tradeable": spec.symbol,
                "direction": direction,
                "quantity": text(size),
                "timestamp": when,
                "limitPrice": text(price),
                "orderType": "Limit" if role == "maker" else "IoC",
                "reduceOnly": False,
                "lastUpdateTimestamp": when,
            }

        taker_buys = trade.side == "buy"
        execution = {
            "uid": trade.uid,
            "makerOrder": order("maker", "Sell" if taker_buys else "Buy"),
            "takerOrder": order("taker", "Buy" if taker_buys else "Sell"),
            "timestamp": when,
            "quantity": text(size),
            "price": text(price),
            "markPrice": text(mark),
            "limitFilled": False,
            "usdValue": text(size if spec.inverse else size * price),
        }
        event = {"Execution": {"execution": execution, "takerReducedQuantity": ""}}
        return {"uid": trade.uid, "timestamp": when, "event": event}
