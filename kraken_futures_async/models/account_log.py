"""The account log: every booking on every wallet (trades, funding, fees, transfers).

Unlike the rest of the history API, its keys are snake_case, its ``date`` is RFC 3339 text
and its amounts are JSON numbers.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import attrs

from ._base import WireEnum, wire

__all__ = ["AccountLog", "AccountLogEntry", "AccountLogInfo"]


class AccountLogInfo(WireEnum):
    """What a log entry records; also the ``info`` filter of ``account_log``."""

    FUTURES_TRADE = "futures trade"
    FUTURES_LIQUIDATION = "futures liquidation"
    FUTURES_ASSIGNOR = "futures assignor"
    FUTURES_ASSIGNEE = "futures assignee"
    FUTURES_UNWIND_COUNTERPARTY = "futures unwind counterparty"
    FUTURES_UNWIND_BANKRUPT = "futures unwind bankrupt"
    COVERED_LIQUIDATION = "covered liquidation"
    FUNDING_RATE_CHANGE = "funding rate change"
    CONVERSION = "conversion"
    INTEREST_PAYMENT = "interest payment"
    TRANSFER = "transfer"
    CROSS_EXCHANGE_TRANSFER = "cross-exchange transfer"
    KFEE_APPLIED = "kfee applied"
    SUBACCOUNT_TRANSFER = "subaccount transfer"
    SETTLEMENT = "settlement"
    ADMIN_TRANSFER = "admin transfer"
    TAX_WITHHELD = "tax withheld"
    TAX_REFUND = "tax refund"
    UNKNOWN = "unknown"


@attrs.frozen(kw_only=True)
class AccountLogEntry:
    """One booking. A trade writes two: the wallet currency's and the position's (``asset``
    is then the lower-case contract)."""

    id: int
    date: dt.datetime
    asset: str
    info: AccountLogInfo
    booking_uid: str = attrs.field(metadata=wire("booking_uid"))
    margin_account: str = attrs.field(metadata=wire("margin_account"))
    old_balance: Decimal = attrs.field(metadata=wire("old_balance"))
    new_balance: Decimal = attrs.field(metadata=wire("new_balance"))
    collateral: str | None = None
    contract: str | None = None
    execution: str | None = None
    fee: Decimal | None = None
    funding_rate: Decimal | None = attrs.field(default=None, metadata=wire("funding_rate"))
    mark_price: Decimal | None = attrs.field(default=None, metadata=wire("mark_price"))
    trade_price: Decimal | None = attrs.field(default=None, metadata=wire("trade_price"))
    old_average_entry_price: Decimal | None = attrs.field(
        default=None, metadata=wire("old_average_entry_price")
    )
    new_average_entry_price: Decimal | None = attrs.field(
        default=None, metadata=wire("new_average_entry_price")
    )
    realized_pnl: Decimal | None = attrs.field(default=None, metadata=wire("realized_pnl"))
    realized_funding: Decimal | None = attrs.field(default=None, metadata=wire("realized_funding"))
    conversion_spread_percentage: Decimal | None = attrs.field(
        default=None, metadata=wire("conversion_spread_percentage")
    )
    liquidation_fee: Decimal | None = attrs.field(default=None, metadata=wire("liquidation_fee"))
    #: The three conversion details come with ``conversion_details=True``.
    exchange_rate: Decimal | None = attrs.field(default=None, metadata=wire("exchange_rate"))
    conversion_fee: Decimal | None = attrs.field(default=None, metadata=wire("conversion_fee"))
    exchange_rate_from: str | None = attrs.field(default=None, metadata=wire("exchange_rate_from"))
    position_uid: str | None = attrs.field(default=None, metadata=wire("position_uid"))


@attrs.frozen(kw_only=True)
class AccountLog:
    """A page of the account log: one account's booking entries."""

    account_uid: str
    logs: tuple[AccountLogEntry, ...]
