"""Private reads: wallets, open positions, open orders and fills."""

from __future__ import annotations

from typing import Any

from ._text import iso_ms, tidy
from .accounts import Account, accounts_payload, accrue_funding
from .orders import open_order_json
from .params import Params
from .venue import Venue

__all__ = ["AccountData"]

_FILLS_PAGE = 100


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
                row["pnlCurrency"] = "USD"
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
