"""Account preferences: isolated-margin leverage, PnL currency, self-trade prevention."""

from __future__ import annotations

from ..models import LeveragePreference, PnlPreference, SelfTradeStrategy
from ..operations import NO_ARGUMENTS
from ..operations import catalog as ops
from ..operations.account import SetLeveragePreference, SetPnlPreference, SetSelfTradeStrategy
from ..operations.checks import Number
from ._base import Resource

__all__ = ["SettingsResource"]


class SettingsResource(Resource):
    """``kf.settings``: the account's leverage, PnL-currency and self-trade preferences."""

    async def leverage_preferences(self) -> list[LeveragePreference]:
        """Contracts margined in isolation, with their maximum leverage (multi-collateral)."""
        return await self._session.execute(ops.LEVERAGE_PREFERENCES, NO_ARGUMENTS)

    async def set_leverage_preference(self, symbol: str, max_leverage: Number | None) -> None:
        """Isolated margin at ``max_leverage`` for ``symbol``; ``None`` switches to cross margin."""
        request = SetLeveragePreference(symbol, max_leverage)
        await self._session.execute(ops.SET_LEVERAGE_PREFERENCE, request)

    async def pnl_preferences(self) -> list[PnlPreference]:
        """The account's PnL-currency preferences: per contract, the currency its PnL is
        taken in."""
        return await self._session.execute(ops.PNL_PREFERENCES, NO_ARGUMENTS)

    async def set_pnl_preference(self, symbol: str, currency: str) -> None:
        """Realise ``symbol``'s profit and loss in ``currency`` (``USD``, ``BTC``, ...)."""
        await self._session.execute(ops.SET_PNL_PREFERENCE, SetPnlPreference(symbol, currency))

    async def self_trade_strategy(self) -> SelfTradeStrategy:
        """What the exchange does when two of the account's orders would trade with each
        other."""
        return await self._session.execute(ops.SELF_TRADE_STRATEGY, NO_ARGUMENTS)

    async def set_self_trade_strategy(self, strategy: SelfTradeStrategy | str) -> SelfTradeStrategy:
        """Choose what happens when two of the account's orders would match; returns the new one."""
        request = SetSelfTradeStrategy(strategy)
        return await self._session.execute(ops.SET_SELF_TRADE_STRATEGY, request)
