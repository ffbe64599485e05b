"""Account preferences: isolated-margin leverage, PnL currency, self-trade prevention."""

from __future__ import annotations

from decimal import Decimal

import attrs

from ._base import WireEnum

__all__ = ["LeveragePreference", "PnlPreference", "SelfTradeStrategy"]


@attrs.frozen(kw_only=True)
class LeveragePreference:
    """A contract margined in isolation at ``max_leverage``; unlisted contracts use cross margin."""

    symbol: str
    max_leverage: Decimal


@attrs.frozen(kw_only=True)
class PnlPreference:
    """The currency a multi-collateral contract's profit and loss is realised in."""

    symbol: str
    pnl_currency: str


class SelfTradeStrategy(WireEnum):
    """What the engine does when two of the account's own orders would match."""

    REJECT_TAKER = "REJECT_TAKER"
    CANCEL_MAKER_SELF = "CANCEL_MAKER_SELF"
    CANCEL_MAKER_CHILD = "CANCEL_MAKER_CHILD"
    CANCEL_MAKER_ANY = "CANCEL_MAKER_ANY"
    UNKNOWN = "unknown"
