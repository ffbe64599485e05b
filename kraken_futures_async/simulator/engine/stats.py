"""The stats service: the account's share of each rebate-eligible contract's volume.

Rebate-eligible are the linear perpetuals (``PF_``). Over the last 30 days, an account's volume
is the USD notional of its own fills; the market's is the makers' daily volume times 30 plus
the account's; the rebate credited is ``REBATE`` of the account's volume. Until the account has
traded such a contract Kraken has nothing aggregated and answers 204 (``None`` here).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ._text import tidy
from .accounts import Account
from .fees import thirty_day_volume
from .params import Params
from .venue import Venue

__all__ = ["REBATE", "Stats"]

REBATE = Decimal("0.00005")
_DAYS = 30


class Stats:
    def __init__(self, venue: Venue) -> None:
        self._venue = venue

    def self_market_share(self, account: Account, params: Params) -> dict[str, Any] | None:
        venue = self._venue
        traded = sorted({fill["symbol"] for _, fill in account.fills})
        contracts: dict[str, Any] = {}
        for symbol in traded:
            spec = venue.specs[symbol]
            if not (spec.perpetual and not spec.inverse):
                continue
            volume = thirty_day_volume(venue, account, symbol)
            if volume <= 0:
                continue
            market = Decimal(repr(round(spec.daily_volume_usd * _DAYS, 2))) + volume
            contracts[symbol] = {
                "marketShare": format(tidy(volume / market), "f"),
                "volume": format(tidy(volume), "f"),
                "usdRebateCredited": format(tidy(volume * REBATE), "f"),
            }
        return {"contracts": contracts} if contracts else None
