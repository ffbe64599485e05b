"""The assignment program: an account's offers to take over positions of liquidated accounts.

Preferences are kept per account with ids counting from 1; adding and deleting both write the
program's history (newest last). The twin liquidates no one, so nothing is ever assigned.
A bad ``contractType`` or ``timeFrame`` is ``invalidArgument``; deleting an id the account
does not have is ``notFound``; past ``Retention.assignment_preferences`` preferences a new one
is ``invalidArgument``, and the history keeps the latest ``Retention.assignment_history``.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from ..errors import ExchangeError
from ._text import iso_ms
from .accounts import Account
from .params import Params
from .venue import Venue

__all__ = ["AssignmentProgram"]

_CONTRACT_TYPES = frozenset({"flexible_futures", "futures_inverse", "futures_vanilla"})
_TIME_FRAMES = frozenset({"all", "weekdays", "weekends"})


@dataclass(slots=True)
class _Book:
    history: deque[dict[str, Any]]
    current: dict[int, dict[str, Any]] = field(default_factory=dict)
    next_id: int = 1


class AssignmentProgram:
    def __init__(self, venue: Venue) -> None:
        self._venue = venue
        self._books: dict[str, _Book] = {}

    def _book(self, account: Account) -> _Book:
        book = self._books.get(account.uid)
        if book is None:
            kept = self._venue.retention.assignment_history
            book = self._books[account.uid] = _Book(deque(maxlen=kept))
        return book

    def _flag(self, params: Params, name: str, required: bool = True) -> bool:
        if params.text(name) is None:
            if required:
                raise ExchangeError("requiredArgumentMissing")
            return True
        return params.boolean(name)

    def assignment_current(self, account: Account, params: Params) -> dict[str, Any]:
        book = self._book(account)
        return {"participants": [{"id": i, "participant": p} for i, p in book.current.items()]}

    def assignment_add(self, account: Account, params: Params) -> dict[str, Any]:
        contract_type = params.required("contractType").strip()
        frame = params.required("timeFrame").strip().lower()
        if contract_type not in _CONTRACT_TYPES or frame not in _TIME_FRAMES:
            raise ExchangeError("invalidArgument")
        contract = params.text("contract")
        if contract is not None:
            spec = self._venue.spec_for(contract)
            if spec is None or spec.kind != contract_type:
                raise ExchangeError("invalidArgument")
            contract = spec.symbol
        participant = {
            "contractType": contract_type,
            "contract": contract,
            "maxSize": params.decimal("maxSize"),
            "maxPosition": params.decimal("maxPosition"),
            "acceptLong": self._flag(params, "acceptLong"),
            "acceptShort": self._flag(params, "acceptShort"),
            "timeFrame": frame,
            "enabled": self._flag(params, "enabled", required=False),
        }
        book = self._book(account)
        if len(book.current) >= self._venue.retention.assignment_preferences:
            raise ExchangeError("invalidArgument")
        ident = book.next_id
        book.next_id += 1
        book.current[ident] = participant
        self._remember(book, participant, deleted=False)
        return {"id": ident, "participant": participant}

    def assignment_delete(self, account: Account, params: Params) -> dict[str, Any]:
        number = params.decimal("id")
        if number is None:
            raise ExchangeError("requiredArgumentMissing")
        book = self._book(account)
        ident = int(number) if number == number.to_integral_value() else -1
        participant = book.current.pop(ident, None)
        if participant is None:
            raise ExchangeError("notFound")
        self._remember(book, participant, deleted=True)
        return {"id": ident, "participant": participant}

    def _remember(self, book: _Book, participant: dict[str, Any], *, deleted: bool) -> None:
        entry = {"deleted": deleted, "participant": participant}
        entry["timestamp"] = iso_ms(self._venue.now)
        book.history.append(entry)

    def assignment_history(self, account: Account, params: Params) -> dict[str, Any]:
        return {"participants": list(self._book(account).history)}
