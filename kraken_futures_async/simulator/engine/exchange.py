"""The engine's one entrance: ``Exchange.handle(operation, params, account_uid)``.

``operation`` is a row name of the package's endpoint table; the answer is the payload
without ``result``/``serverTime`` (or the whole body for the charts API). Before each call the
exchange catches up with its clock (see :mod:`.venue`), so everything that time changes
(prices, fills of resting orders, triggers, the dead man's switch) is settled first.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from ..clock import Clock
from ..errors import ExchangeError
from .account_data import AccountData
from .accounts import Account
from .charts import Charts
from .market_data import MarketData
from .params import Params
from .trading import Trading
from .venue import Venue

__all__ = ["Exchange"]

PublicHandler = Callable[[Params], dict[str, Any]]
PrivateHandler = Callable[[Account, Params], dict[str, Any]]


class Exchange:
    """Kraken Futures without HTTP: instruments, prices, books, orders, accounts.

    Same seed, same clock times and same calls give identical answers.
    """

    def __init__(self, *, seed: int = 0, clock: Clock) -> None:
        self._venue = Venue(seed, clock)
        market = MarketData(self._venue, seed)
        charts = Charts(self._venue)
        trading = Trading(self._venue)
        accounts = AccountData(self._venue)
        self._public: dict[str, PublicHandler] = {
            "tickers": market.tickers,
            "ticker": market.ticker,
            "orderbook": market.orderbook,
            "trades": market.history,
            "instruments": market.instruments,
            "candles": charts.candles,
        }
        self._private: dict[str, PrivateHandler] = {
            "accounts": accounts.accounts,
            "open_positions": accounts.open_positions,
            "open_orders": accounts.open_orders,
            "fills": accounts.fills,
            "send_order": trading.send_order,
            "edit_order": trading.edit_order,
            "cancel_order": trading.cancel_order,
            "cancel_all_orders": trading.cancel_all_orders,
            "cancel_all_orders_after": trading.cancel_all_orders_after,
            "batch_order": trading.batch_order,
            "order_status": trading.order_status,
        }

    @property
    def operations(self) -> frozenset[str]:
        """The endpoint-table names this engine serves."""
        return frozenset(self._public) | frozenset(self._private)

    def open_account(self, account_uid: str, balances: Mapping[str, Decimal] | None = None) -> None:
        """Open an account with a flex wallet (default 100,000 USD).

        ``balances`` maps flex currencies (``USD``, ``USDT``, ``XBT``/``BTC``, ``ETH``, ...)
        to quantities; keys naming a coin-margined account (``fi_xbtusd``) fund that account
        in its coin. Coin-margined accounts not named hold a small default (0.1 XBT, 3 ETH,
        100 LTC, 5000 XRP) so that inverse contracts can be traded out of the box.
        """
        if account_uid in self._venue.accounts:
            raise ValueError(f"account {account_uid!r} is already open")
        self._venue.open_account(account_uid, None if balances is None else dict(balances))

    def handle(
        self,
        operation: str,
        params: Mapping[str, Sequence[str]],
        account_uid: str | None,
    ) -> dict[str, Any]:
        """Serve one request; the payload may share cached parts with others: read-only."""
        venue = self._venue
        public = self._public.get(operation)
        private = self._private.get(operation) if public is None else None
        if public is None and private is None:
            raise ExchangeError(0, structured=True, http_status=404, message="404 NOT_FOUND")
        venue.begin()
        request = Params(params)
        if public is not None:
            return public(request)
        assert private is not None
        account = venue.accounts.get(account_uid) if account_uid is not None else None
        if account is None:
            raise ExchangeError("accountInactive")
        return private(account, request)

    # introspection (tests, tools) ---------------------------------------------------------

    def mark_price(self, symbol: str, at: float | None = None) -> Decimal:
        """The mark price of ``symbol`` at clock time ``at`` (default: the clock's time now).

        Prices are functions of time, so this may look ahead without changing anything.
        """
        return self._price(symbol, at)[1]

    def index_price(self, symbol: str, at: float | None = None) -> Decimal:
        return self._price(symbol, at)[0]

    def _price(self, symbol: str, at: float | None) -> tuple[Decimal, Decimal]:
        spec = self._venue.spec_for(symbol)
        if spec is None:
            raise KeyError(symbol)
        when = self._venue.clock.time() if at is None else at
        index, mark, _ = self._venue.prices.quote(spec, int(when // 1))
        return index, mark
