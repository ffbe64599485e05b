"""Account preferences: isolated-margin leverage, PnL currency, self-trade prevention."""

from __future__ import annotations

from ..errors import InvalidArgumentError
from ..models import LeveragePreference, PnlPreference, SelfTradeStrategy
from ..rest.endpoints import endpoint
from ..rest.wire import encode_params
from ._args import check_text, optional_number
from ._base import Resource
from ._order_args import Number, check_symbol

__all__ = ["SettingsResource"]

_LEVERAGE = endpoint("leverage_preferences")
_SET_LEVERAGE = endpoint("set_leverage_preference")
_PNL = endpoint("pnl_preferences")
_SET_PNL = endpoint("set_pnl_preference")
_STRATEGY = endpoint("self_trade_strategy")
_SET_STRATEGY = endpoint("set_self_trade_strategy")


class SettingsResource(Resource):
    async def leverage_preferences(self) -> list[LeveragePreference]:
        """Contracts margined in isolation, with their maximum leverage (multi-collateral)."""
        result: list[LeveragePreference] = await self._backend.call(_LEVERAGE)
        return result

    async def set_leverage_preference(self, symbol: str, max_leverage: Number | None) -> None:
        """Isolated margin at ``max_leverage`` for ``symbol``; ``None`` switches to cross margin."""
        params = {
            "symbol": check_symbol(symbol),
            "maxLeverage": optional_number("max_leverage", max_leverage),
        }
        await self._backend.call(_SET_LEVERAGE, encode_params(params))

    async def pnl_preferences(self) -> list[PnlPreference]:
        result: list[PnlPreference] = await self._backend.call(_PNL)
        return result

    async def set_pnl_preference(self, symbol: str, currency: str) -> None:
        """Realise ``symbol``'s profit and loss in ``currency`` (``USD``, ``BTC``, ...)."""
        params = {"symbol": check_symbol(symbol), "pnlPreference": check_text("currency", currency)}
        await self._backend.call(_SET_PNL, encode_params(params))

    async def self_trade_strategy(self) -> SelfTradeStrategy:
        result: SelfTradeStrategy = await self._backend.call(_STRATEGY)
        return result

    async def set_self_trade_strategy(self, strategy: SelfTradeStrategy | str) -> SelfTradeStrategy:
        """Choose what happens when two of the account's orders would match; returns the new one."""
        chosen = SelfTradeStrategy(strategy)
        if chosen is SelfTradeStrategy.UNKNOWN:
            known = ", ".join(
                s.value for s in SelfTradeStrategy if s is not SelfTradeStrategy.UNKNOWN
            )
            raise InvalidArgumentError(f"strategy must be one of {known}; got {strategy!r}")
        result: SelfTradeStrategy = await self._backend.call(
            _SET_STRATEGY, encode_params({"strategy": chosen})
        )
        return result
