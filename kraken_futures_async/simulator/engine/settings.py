"""Account preferences: isolated leverage, PnL currency and the self-trade strategy.

Leverage and PnL preferences exist for multi-collateral (linear) contracts only, as on Kraken.
An isolated leverage raises the contract's initial margin to at least notional / leverage
(see :func:`.accounts.margin_for`); a leverage the account's margin cannot carry is refused
and nothing changes. The PnL currency and the self-trade strategy are kept and shown, but the
twin still books PnL in USD and always rejects the taker of a self-trade (``REJECT_TAKER``).
Refusals come in the structured form with Kraken's documented codes (87 unknown contract, 88
not multi-collateral, 89 unknown currency, 90 currency not allowed, 92 insufficient margin).
"""

from __future__ import annotations

from typing import Any

from ..errors import ExchangeError, Reason
from ._text import ONE, tidy
from .accounts import FLEX_CURRENCIES, Account, flex_figures, normalise_currency
from .instruments import InstrumentSpec
from .params import Params
from .venue import Venue

__all__ = ["PNL_CURRENCIES", "STRATEGIES", "Settings"]

STRATEGIES = ("REJECT_TAKER", "CANCEL_MAKER_SELF", "CANCEL_MAKER_CHILD", "CANCEL_MAKER_ANY")
#: The currencies a PnL may be realised in (Kraken spells bitcoin BTC here).
PNL_CURRENCIES = frozenset({"USD", "EUR", "GBP", "USDC", "USDT", "BTC", "ETH"})
_PNL_SPELLING = {"XBT": "BTC"}


def _refusal(code: int, message: str, reason: Reason = Reason.VALIDATION) -> ExchangeError:
    return ExchangeError(code, reason=reason, message=message)


class Settings:
    def __init__(self, venue: Venue) -> None:
        self._venue = venue

    def _linear(self, params: Params) -> InstrumentSpec:
        spec = self._venue.spec_for(params.required("symbol"))
        if spec is None:
            raise _refusal(87, "Contract does not exist")
        if spec.inverse:
            raise _refusal(88, "Contract is not a multi-collateral contract")
        return spec

    # leverage -----------------------------------------------------------------------------

    def leverage_preferences(self, account: Account, params: Params) -> dict[str, Any]:
        rows = [{"symbol": s, "maxLeverage": v} for s, v in sorted(account.leverage.items())]
        return {"leveragePreferences": rows}

    def set_leverage_preference(self, account: Account, params: Params) -> dict[str, Any]:
        spec = self._linear(params)
        wanted = params.decimal("maxLeverage")
        highest = ONE / spec.tiers[0].initial
        if wanted is not None and not ONE <= wanted <= highest:
            raise _refusal(11, "Argument invalid: maxLeverage")
        before = account.leverage.get(spec.symbol)
        if wanted is None:
            account.leverage.pop(spec.symbol, None)
            return {}
        account.leverage[spec.symbol] = tidy(wanted)
        venue = self._venue
        if flex_figures(account, venue.specs, venue, venue.now).available_margin < 0:
            if before is None:
                del account.leverage[spec.symbol]
            else:
                account.leverage[spec.symbol] = before
            raise _refusal(92, "INSUFFICIENT_MARGIN", reason=Reason.FAILED)
        return {}

    # PnL currency -------------------------------------------------------------------------

    def pnl_preferences(self, account: Account, params: Params) -> dict[str, Any]:
        rows = [{"symbol": s, "pnlCurrency": c} for s, c in sorted(account.pnl_currency.items())]
        return {"preferences": rows}

    def set_pnl_preference(self, account: Account, params: Params) -> dict[str, Any]:
        spec = self._linear(params)
        currency = params.required("pnlPreference").strip().upper()
        currency = _PNL_SPELLING.get(currency, currency)
        if currency not in PNL_CURRENCIES:
            if normalise_currency(currency) in FLEX_CURRENCIES:
                raise _refusal(90, "Currency is not enabled for multi-collateral PnL")
            raise _refusal(89, "Currency does not exist")
        account.pnl_currency[spec.symbol] = currency
        return {}

    # self-trade prevention ----------------------------------------------------------------

    def self_trade_strategy(self, account: Account, params: Params) -> dict[str, Any]:
        return {"strategy": account.self_trade_strategy}

    def set_self_trade_strategy(self, account: Account, params: Params) -> dict[str, Any]:
        strategy = params.required("strategy").strip().upper()
        if strategy not in STRATEGIES:
            raise ExchangeError("invalidArgument")
        account.self_trade_strategy = strategy
        return {"strategy": strategy}
