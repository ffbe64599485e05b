"""The history API's own-account listings: executions, orders, triggers, position updates.

All come from the venue's journal (see :mod:`.journal`), paged by :mod:`.paging`. An execution
shows the account's own side in full (fee, position after the trade); the other side, another
user's order or the makers', is shown under the makers' account uid without a client id, and
its order data is null. ``opened=false`` leaves out placements, ``closed=false`` cancels,
rejections, activations and full fills (``true`` or nothing keeps them). Position filters work
as Kraken documents: any change filter given must match, and any reason filter given must too.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ._text import iso_ms
from .accounts import Account
from .history_shapes import MAKERS
from .journal import AccountJournal, Record
from .paging import Window, page
from .params import Params
from .venue import Venue

__all__ = ["HistoryApi"]

_OPENED = frozenset({"OrderPlaced", "OrderTriggerPlaced"})
_CLOSED = frozenset(
    {"OrderCancelled", "OrderRejected", "OrderTriggerCancelled", "OrderTriggerActivated"}
)
_CHANGES = {
    "opened": "open",
    "closed": "close",
    "increased": "increase",
    "decreased": "decrease",
    "reversed": "reverse",
    "no_change": "noChange",
}
_REASONS = {
    "trades": "trade",
    "funding_realization": "fundingRealisation",
    "settlement": "settlement",
}


def _key(record: Record) -> tuple[int, int]:
    return record.key


def _in_order(records: Iterable[Record], window: Window) -> Iterable[Record]:
    listed = list(records)
    return listed if window.ascending else reversed(listed)


def _element(record: Record) -> dict[str, Any]:
    return record.element


def _own_execution(account_uid: str, record: Record) -> dict[str, Any]:
    """The execution as one account sees it: the counterparty's side anonymous."""
    wrapper = record.element["event"]["Execution"]
    execution = dict(wrapper["execution"])
    for side, data in (("makerOrder", "makerOrderData"), ("takerOrder", "takerOrderData")):
        if execution[side]["accountUid"] != account_uid:
            execution[side] = {**execution[side], "accountUid": MAKERS, "clientId": ""}
            execution[data] = None
    event = {"Execution": {**wrapper, "execution": execution}}
    return {**record.element, "event": event}


def _closing(record: Record) -> bool:
    if record.kind in _CLOSED:
        return True
    body = record.element["event"].get("OrderUpdated")
    return body is not None and body["reason"] == "full_fill"


class HistoryApi:
    def __init__(self, venue: Venue) -> None:
        self._venue = venue

    def _journal(self, account: Account) -> AccountJournal:
        return self._venue.journal.of(account.uid)

    def _answer(
        self,
        account: Account,
        records: Iterable[Record],
        params: Params,
        render: Any = _element,
    ) -> dict[str, Any]:
        window = Window.read(params)
        tradeable = params.text("tradeable")
        wanted = None if tradeable is None else tradeable.strip().upper()
        chosen = (r for r in records if wanted is None or r.symbol.upper() == wanted)
        elements, token = page(_in_order(chosen, window), window, _key, render)
        body: dict[str, Any] = {
            "accountUid": account.uid,
            "len": len(elements),
            "serverTime": iso_ms(self._venue.now),
            "elements": elements,
        }
        if token is not None:
            body["continuationToken"] = token
        return body

    def history_executions(self, account: Account, params: Params) -> dict[str, Any]:
        records = self._journal(account).executions
        return self._answer(account, records, params, lambda r: _own_execution(account.uid, r))

    def _events(self, records: Iterable[Record], params: Params) -> Iterable[Record]:
        opened = params.boolean("opened", True)
        closed = params.boolean("closed", True)
        for record in records:
            if not opened and record.kind in _OPENED:
                continue
            if not closed and _closing(record):
                continue
            yield record

    def history_orders(self, account: Account, params: Params) -> dict[str, Any]:
        records = self._events(self._journal(account).orders, params)
        return self._answer(account, records, params)

    def history_triggers(self, account: Account, params: Params) -> dict[str, Any]:
        records = self._events(self._journal(account).triggers, params)
        return self._answer(account, records, params)

    def history_positions(self, account: Account, params: Params) -> dict[str, Any]:
        changes = {v for k, v in _CHANGES.items() if params.boolean(k)}
        reasons = {v for k, v in _REASONS.items() if params.boolean(k)}
        records = (
            r
            for r in self._journal(account).positions
            if (not changes or r.element["positionChange"] in changes)
            and (not reasons or r.element["updateReason"] in reasons)
        )
        return self._answer(account, records, params)
