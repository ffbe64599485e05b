"""Public market data: tickers, order books, trades, instruments, candles."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import NamedTuple

import attrs

from ._base import wire

__all__ = [
    "Candle",
    "CandlePage",
    "Instrument",
    "MarginLevel",
    "MarginSchedule",
    "OptionGreeks",
    "OrderBook",
    "PriceLevel",
    "PublicTrade",
    "Ticker",
]


@attrs.frozen(kw_only=True)
class OptionGreeks:
    """An option's implied volatility and greeks."""

    iv: Decimal
    delta: Decimal
    gamma: Decimal | None = None
    vega: Decimal | None = None
    theta: Decimal | None = None
    rho: Decimal | None = None


@attrs.frozen(kw_only=True)
class Ticker:
    """A market or index ticker; index tickers (``in_``/``rr_``) carry only symbol and last."""

    symbol: str
    last: Decimal | None = None
    last_time: dt.datetime | None = None
    last_size: Decimal | None = None
    tag: str | None = None
    pair: str | None = None
    mark_price: Decimal | None = None
    bid: Decimal | None = None
    bid_size: Decimal | None = None
    ask: Decimal | None = None
    ask_size: Decimal | None = None
    vol_24h: Decimal | None = attrs.field(default=None, metadata=wire("vol24h"))
    volume_quote: Decimal | None = None
    open_interest: Decimal | None = None
    open_24h: Decimal | None = attrs.field(default=None, metadata=wire("open24h"))
    high_24h: Decimal | None = attrs.field(default=None, metadata=wire("high24h"))
    low_24h: Decimal | None = attrs.field(default=None, metadata=wire("low24h"))
    extrinsic_value: Decimal | None = None
    funding_rate: Decimal | None = None
    funding_rate_prediction: Decimal | None = None
    suspended: bool | None = None
    index_price: Decimal | None = None
    post_only: bool | None = None
    change_24h: Decimal | None = attrs.field(default=None, metadata=wire("change24h"))
    greeks: OptionGreeks | None = None
    is_underlying_market_closed: bool | None = None

    @property
    def is_index(self) -> bool:
        """True for an index ticker (``in_`` or ``rr_`` symbol, no mark price): a price
        series, not a contract to trade."""
        return self.mark_price is None and self.symbol[:3].lower() in ("in_", "rr_")


class PriceLevel(NamedTuple):
    """One order-book level: ``level.price``, ``level.size``, or ``price, size = level``.

    A plain tuple of two exact Decimals (the shape of the wire's ``[price, size]``), the
    cheapest exact record Python has: a book of 200 levels is built in C, and a level
    compares equal to ``(price, size)``. The same shape as the streams' ``BookLevel``.
    """

    price: Decimal
    size: Decimal


@attrs.frozen(kw_only=True)
class OrderBook:
    """Full, non-aggregated book: bids best (highest) first, asks best (lowest) first."""

    bids: tuple[PriceLevel, ...]
    asks: tuple[PriceLevel, ...]

    @property
    def best_bid(self) -> PriceLevel | None:
        """The highest bid, or ``None`` when no one bids."""
        return self.bids[0] if self.bids else None

    @property
    def best_ask(self) -> PriceLevel | None:
        """The lowest ask, or ``None`` when no one offers."""
        return self.asks[0] if self.asks else None


@attrs.frozen(kw_only=True)
class PublicTrade:
    """One public trade from ``/history`` (``side`` is the taker's)."""

    time: dt.datetime
    price: Decimal
    size: Decimal | None = None
    side: str | None = None
    trade_id: int | None = attrs.field(default=None, metadata=wire("trade_id"))
    type: str | None = None
    uid: str | None = None
    instrument_identification_type: str | None = attrs.field(
        default=None, metadata=wire("instrument_identification_type")
    )
    isin: str | None = None
    execution_venue: str | None = attrs.field(default=None, metadata=wire("execution_venue"))
    price_notation: str | None = attrs.field(default=None, metadata=wire("price_notation"))
    price_currency: str | None = attrs.field(default=None, metadata=wire("price_currency"))
    notional_amount: Decimal | None = attrs.field(default=None, metadata=wire("notional_amount"))
    notional_currency: str | None = attrs.field(default=None, metadata=wire("notional_currency"))
    publication_time: dt.datetime | None = attrs.field(
        default=None, metadata=wire("publication_time")
    )
    publication_venue: str | None = attrs.field(default=None, metadata=wire("publication_venue"))
    transaction_identification_code: str | None = attrs.field(
        default=None, metadata=wire("transaction_identification_code")
    )
    to_be_cleared: bool | None = attrs.field(default=None, metadata=wire("to_be_cleared"))


@attrs.frozen(kw_only=True)
class MarginLevel:
    """One margin tier: ``contracts`` (inverse) or ``num_non_contract_units`` (USD, flexible)."""

    initial_margin: Decimal
    maintenance_margin: Decimal
    contracts: int | None = None
    num_non_contract_units: Decimal | None = None


@attrs.frozen(kw_only=True)
class MarginSchedule:
    """A contract's margin levels, for retail and for professional accounts."""

    retail: tuple[MarginLevel, ...]
    professional: tuple[MarginLevel, ...]


@attrs.frozen(kw_only=True)
class Instrument:
    """A contract's specification: tick size, size precision, margin tiers."""

    symbol: str
    tradeable: bool
    tradfi: bool = False
    type: str | None = None
    underlying: str | None = None
    underlying_future: str | None = None
    tick_size: Decimal | None = None
    contract_size: Decimal | None = None
    contract_value_trade_precision: int | None = None
    impact_mid_size: Decimal | None = None
    max_position_size: Decimal | None = None
    opening_date: dt.datetime | None = None
    last_trading_time: dt.datetime | None = None
    margin_levels: tuple[MarginLevel, ...] = ()
    retail_margin_levels: tuple[MarginLevel, ...] = ()
    margin_schedules: dict[str, MarginSchedule] = attrs.field(factory=dict)
    funding_rate_coefficient: Decimal | None = None
    max_relative_funding_rate: Decimal | None = None
    isin: str | None = None
    post_only: bool | None = None
    fee_schedule_uid: str | None = None
    category: str | None = None
    tags: tuple[str, ...] = ()
    pair: str | None = None
    base: str | None = None
    quote: str | None = None
    mtf: bool | None = None

    @property
    def size_step(self) -> Decimal | None:
        """The smallest size increment, ``10 ** -contractValueTradePrecision``."""
        if self.contract_value_trade_precision is None:
            return None
        return Decimal(1).scaleb(-self.contract_value_trade_precision)


@attrs.frozen(kw_only=True)
class Candle:
    """One OHLC candle from the charts API; ``time`` is its opening time."""

    time: dt.datetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal


@attrs.frozen(kw_only=True)
class CandlePage:
    """A page of candles; ``more_candles`` says whether the window holds more."""

    candles: tuple[Candle, ...]
    more_candles: bool = attrs.field(default=False, metadata=wire("more_candles"))
