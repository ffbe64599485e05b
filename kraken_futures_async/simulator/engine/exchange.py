"""The engine's one entrance: ``Exchange.handle(operation, params, account_uid)``.

``operation`` is a row name of the package's endpoint table; the answer is the payload
without ``result``/``serverTime`` (or the whole body for the charts, history, auth and stats
services; CSV text for the account log as CSV; ``None`` for "nothing yet"). Before
each call the exchange catches up with its clock (see :mod:`.venue`), so everything that time
changes (prices, fills of resting orders, triggers, the dead man's switch) is settled first.

Every operation of the table is served here except the auth service's key check, which the
HTTP layer answers from its key registry (the engine knows accounts, not keys).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from ..clock import Clock
from ..errors import ExchangeError, Reason
from .account_data import AccountData
from .account_log import AccountLogApi
from .accounts import Account
from .analytics import Analytics
from .assignment import AssignmentProgram
from .charts import Charts
from .events import Subscriber
from .fees import Fees
from .history_api import HistoryApi
from .market_data import MarketData
from .market_history import MarketHistory
from .market_status import MarketStatus
from .params import Params
from .portfolio import PortfolioMargining
from .retention import Retention
from .rfq import Rfqs
from .settings import Settings
from .stats import Stats
from .subaccounts import Subaccounts
from .trading import Trading
from .transfers import Transfers
from .venue import Venue

__all__ = ["Exchange"]

#: A payload (dict), a list (charts), CSV text, or None ("nothing yet").
PublicHandler = Callable[[Params], Any]
PrivateHandler = Callable[[Account, Params], Any]


class Exchange:
    """Kraken Futures without HTTP: instruments, prices, books, orders, accounts.

    Same seed, same clock times and same calls give identical answers.
    """

    def __init__(
        self,
        *,
        seed: int = 0,
        clock: Clock,
        retention: Retention | None = None,
        venue: Venue | None = None,
    ) -> None:
        #: The core; a mirror of a live market passes its own (:mod:`..mirror.venue`).
        self._venue = venue if venue is not None else Venue(seed, clock, retention)
        market = MarketData(self._venue, seed)
        charts = Charts(self._venue)
        venue = self._venue
        trading = Trading(venue)
        accounts = AccountData(venue)
        status = MarketStatus(venue)
        fees = Fees(venue)
        analytics = Analytics(venue, seed)
        markets = MarketHistory(venue)
        rfqs = Rfqs(venue, seed)
        self._public: dict[str, PublicHandler] = {
            "tickers": market.tickers,
            "ticker": market.ticker,
            "orderbook": market.orderbook,
            "trades": market.history,
            "instruments": market.instruments,
            "candles": charts.candles,
            "instruments_status": status.instruments_status,
            "instrument_status": status.instrument_status,
            "historical_funding_rates": status.historical_funding_rates,
            "fee_schedules": fees.fee_schedules,
            "rfqs": rfqs.rfqs,
            "rfq": rfqs.rfq,
            "market_executions": markets.market_executions,
            "market_orders": markets.market_orders,
            "market_prices": markets.market_prices,
            "tick_types": charts.tick_types,
            "chart_symbols": charts.chart_symbols,
            "chart_resolutions": charts.chart_resolutions,
            "market_analytics": analytics.market_analytics,
            "liquidity_pool": analytics.liquidity_pool,
        }
        self._private: dict[str, PrivateHandler] = {
            "accounts": accounts.accounts,
            "open_positions": accounts.open_positions,
            "open_orders": accounts.open_orders,
            "fills": accounts.fills,
            "notifications": accounts.notifications,
            "unwind_queue": accounts.unwind_queue,
            "send_order": trading.send_order,
            "edit_order": trading.edit_order,
            "cancel_order": trading.cancel_order,
            "cancel_all_orders": trading.cancel_all_orders,
            "cancel_all_orders_after": trading.cancel_all_orders_after,
            "batch_order": trading.batch_order,
            "order_status": trading.order_status,
            "fee_schedule_volumes": fees.fee_schedule_volumes,
            "self_market_share": Stats(venue).self_market_share,
            **_handlers(
                Settings(venue),
                Transfers(venue),
                Subaccounts(venue),
                AssignmentProgram(venue),
                PortfolioMargining(venue),
                HistoryApi(venue),
                AccountLogApi(venue),
            ),
            "rfq_open_offers": rfqs.rfq_open_offers,
            "place_rfq_offer": rfqs.place_rfq_offer,
            "replace_rfq_offer": rfqs.replace_rfq_offer,
            "cancel_rfq_offer": rfqs.cancel_rfq_offer,
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
    ) -> Any:
        """Serve one request; the payload may share cached parts with others: read-only."""
        venue = self._venue
        public = self._public.get(operation)
        private = self._private.get(operation) if public is None else None
        if public is None and private is None:
            raise ExchangeError(0, reason=Reason.NO_SUCH_ROUTE)
        venue.begin()
        request = Params(params)
        if public is not None:
            return public(request)
        assert private is not None
        account = venue.accounts.get(account_uid) if account_uid is not None else None
        if account is None:
            raise ExchangeError("accountInactive")
        return private(account, request)

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Hear every engine event (:mod:`.events`) from now on; call the result to stop.

        Events are pushed synchronously while a call changes the exchange, in the order the
        changes happen; the callback must not call back into the exchange.
        """
        return self._venue.subscribe(callback)

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


def _handlers(*services: object) -> dict[str, PrivateHandler]:
    """Every public method of each service, by name: the method names are the table's names."""
    found: dict[str, PrivateHandler] = {}
    for service in services:
        for name in dir(service):
            if not name.startswith("_"):
                found[name] = getattr(service, name)
    return found
