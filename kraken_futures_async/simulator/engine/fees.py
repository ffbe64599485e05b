"""Fee schedules (deprecated by Kraken in June 2026) and the account's 30-day volume.

The schedule lists Kraken's published tiers (fees in percent), but the twin charges every
account the base tier (maker 0.02 %, taker 0.05 %, see :mod:`.accounts`) whatever its volume.
The volume is the USD notional of the account's own fills over the last 30 days.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ._text import ZERO, tidy
from .accounts import Account
from .params import Params
from .venue import Venue

__all__ = ["MAIN_SCHEDULE", "Fees", "thirty_day_volume"]

MAIN_SCHEDULE = "7fc4d7c0-464f-4029-a9bb-55856d0c5247"
_TIERS = (
    ("0", "0.02", "0.05"),
    ("100000", "0.015", "0.04"),
    ("1000000", "0.0125", "0.03"),
    ("5000000", "0.01", "0.025"),
    ("10000000", "0.0075", "0.02"),
    ("20000000", "0.005", "0.015"),
    ("50000000", "0.0025", "0.0125"),
    ("100000000", "0", "0.01"),
)
_SCHEDULES = (
    {
        "uid": MAIN_SCHEDULE,
        "name": "PGTMainFees",
        "tiers": [
            {"makerFee": Decimal(maker), "takerFee": Decimal(taker), "usdVolume": Decimal(volume)}
            for volume, maker, taker in _TIERS
        ],
    },
)
_THIRTY_DAYS = 30 * 86_400


def thirty_day_volume(venue: Venue, account: Account, symbol: str | None = None) -> Decimal:
    """USD notional of the account's fills in the last 30 days (inverse sizes are USD)."""
    since = venue.now - _THIRTY_DAYS
    total = ZERO
    for at, fill in reversed(account.fills):
        if at < since:
            break
        if symbol is not None and fill["symbol"] != symbol:
            continue
        spec = venue.specs[fill["symbol"]]
        size: Decimal = fill["size"]
        total += size if spec.inverse else size * fill["price"]
    return total


class Fees:
    def __init__(self, venue: Venue) -> None:
        self._venue = venue

    def fee_schedules(self, params: Params) -> dict[str, Any]:
        return {"feeSchedules": list(_SCHEDULES)}

    def fee_schedule_volumes(self, account: Account, params: Params) -> dict[str, Any]:
        volume = tidy(thirty_day_volume(self._venue, account))
        return {"volumesByFeeSchedule": {MAIN_SCHEDULE: volume}}
