"""The account log: every booking on the account's wallets and positions, as JSON or CSV.

Rows come from the journal (trades write a wallet row and a position row, transfers one row
per wallet). ``from``/``to`` bound ids (inclusive), ``since``/``before`` times in epoch ms
(inclusive/exclusive), ``info`` picks one kind; ``count`` defaults to 500. The CSV is the same
rows, newest first, with a header line; ``conversion_details`` adds the conversion columns
(always empty: the twin converts nothing).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from ..errors import ExchangeError, Reason
from .accounts import Account
from .history_shapes import ms
from .paging import DEFAULT_COUNT, whole_number
from .params import Params
from .venue import Venue

__all__ = ["AccountLogApi"]

_CSV_COLUMNS = (
    "id",
    "date",
    "asset",
    "info",
    "booking_uid",
    "margin_account",
    "old_balance",
    "new_balance",
    "old_average_entry_price",
    "new_average_entry_price",
    "trade_price",
    "mark_price",
    "realized_pnl",
    "fee",
    "execution",
    "collateral",
    "funding_rate",
    "realized_funding",
    "conversion_spread_percentage",
    "liquidation_fee",
    "contract",
)
_CONVERSION_COLUMNS = ("exchange_rate", "conversion_fee", "exchange_rate_from")
_CSV_ROWS = 500_000


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


class AccountLogApi:
    def __init__(self, venue: Venue) -> None:
        self._venue = venue

    def _rows(self, account: Account) -> Iterable[tuple[float, dict[str, Any]]]:
        return self._venue.journal.of(account.uid).log

    def account_log(self, account: Account, params: Params) -> dict[str, Any]:
        since, before = whole_number(params, "since"), whole_number(params, "before")
        first, last = whole_number(params, "from"), whole_number(params, "to")
        count = whole_number(params, "count")
        count = DEFAULT_COUNT if count is None else count
        sort = (params.text("sort") or "desc").strip().lower()
        if sort not in ("asc", "desc") or count < 1:
            raise ExchangeError("invalidArgument", reason=Reason.INVALID_ARGUMENT)
        info = params.text("info")
        chosen: list[dict[str, Any]] = []
        for at, row in self._rows(account):
            when = ms(at)
            if (since is not None and when < since) or (before is not None and when >= before):
                continue
            if (first is not None and row["id"] < first) or (last is not None and row["id"] > last):
                continue
            if info is None or row["info"] == info:
                chosen.append(row)
        if sort == "desc":
            chosen.reverse()
        return {"accountUid": account.uid, "logs": chosen[:count]}

    def account_log_csv(self, account: Account, params: Params) -> str:
        columns: tuple[str, ...] = _CSV_COLUMNS
        if params.boolean("conversion_details"):
            columns += _CONVERSION_COLUMNS
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        rows = list(self._rows(account))[-_CSV_ROWS:]
        for _, row in reversed(rows):
            writer.writerow([_cell(row.get(column)) for column in columns])
        return out.getvalue()
