"""Private reads: wallets, open positions, open orders, fills, notices and the unwind queue.

The notifications are two fixed notices (the next weekly maintenance window, Tuesdays 08:00
UTC, and the retirement of Kraken's demo). A position's place in the unwind queue follows its
return on the entry price, as profitable positions are unwound first: 20 at a loss of 1 % or
more, one step of 20 per percent, up to 100 at a gain of 3 % or more.
"""

from __future__ import annotations

import math
from typing import Any

from ._text import ONE, iso_ms, tidy
from .accounts import Account, accounts_payload, accrue_funding
from .orders import open_order_json
from .params import Params
from .venue import Venue

__all__ = ["AccountData"]

_FILLS_PAGE = 100
_WEEK = 7 * 86_400
_TUESDAY_0800 = 5 * 86_400 + 8 * 3600  # the epoch began on a Thursday
_DEMO_RETIRED = "2026-07-14T00:00:00.000Z"


class AccountData:
    def __init__(self, venue: Venue) -> None:
        self._venue = venue

    def accounts(self, account: Account, params: Params) -> dict[str, Any]:
        venue = self._venue
        return {"accounts": accounts_payload(account, venue.specs, venue, venue.now)}

    def open_positions(self, account: Account, params: Params) -> dict[str, Any]:
        venue = self._venue
        rows: list[tuple[float, dict[str, Any]]] = []
        for symbol, position in account.positions.items():
            spec = venue.specs[symbol]
            accrue_funding(spec, position, venue.now, venue)
            row: dict[str, Any] = {
                "side": "long" if position.size > 0 else "short",
                "symbol": symbol,
                "price": tidy(position.price),
                "fillTime": iso_ms(position.fill_time),
                "size": abs(position.size),
                "unrealizedFunding": tidy(position.funding) if spec.perpetual else None,
            }
            if not spec.inverse:
                row["pnlCurrency"] = account.pnl_currency.get(symbol, "USD")
                leverage = account.leverage.get(symbol)
                if leverage is not None:
                    row["maxFixedLeverage"] = leverage
            rows.append((position.fill_time, row))
        rows.sort(key=lambda item: item[0], reverse=True)
        return {"openPositions": [row for _, row in rows]}

    def open_orders(self, account: Account, params: Params) -> dict[str, Any]:
        orders = sorted(account.open_orders.values(), key=lambda o: (o.received, o.seq))
        return {"openOrders": [open_order_json(order) for order in reversed(orders)]}

    def fills(self, account: Account, params: Params) -> dict[str, Any]:
        before = params.time("lastFillTime")
        # compared in whole milliseconds, the precision fill times are shown in
        limit = None if before is None else round(before * 1000)
        page: list[dict[str, Any]] = []
        for at, record in reversed(account.fills):
            if limit is not None and round(at * 1000) >= limit:
                continue
            page.append(record)
            if len(page) >= _FILLS_PAGE:
                break
        return {"fills": page}

    def notifications(self, account: Account, params: Params) -> dict[str, Any]:
        now = self._venue.now
        weeks = math.floor((now - _TUESDAY_0800) / _WEEK) + 1
        maintenance = _TUESDAY_0800 + weeks * _WEEK
        return {
            "notifications": [
                {
                    "type": "maintenance",
                    "priority": "high",
                    "note": "Weekly maintenance of the matching engine.",
                    "effectiveTime": iso_ms(maintenance),
                    "expectedDowntimeMinutes": 30,
                },
                {
                    "type": "general",
                    "priority": "low",
                    "note": "Kraken retired its Futures demo; this exchange twin stands in for it.",
                    "effectiveTime": _DEMO_RETIRED,
                },
            ]
        }

    def unwind_queue(self, account: Account, params: Params) -> dict[str, Any]:
        venue = self._venue
        queue: list[dict[str, Any]] = []
        for symbol, position in sorted(account.positions.items()):
            mark = venue.mark_now(venue.specs[symbol])
            gain = (mark / position.price - ONE) * (ONE if position.size > 0 else -ONE)
            step = math.floor(gain * 100) + 2  # -1 % and below: 1, +3 % and above: 5
            queue.append({"symbol": symbol, "percentile": 20 * max(1, min(5, step))})
        return {"queue": queue}
