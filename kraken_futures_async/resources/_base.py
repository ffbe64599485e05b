"""Resources are thin typed methods: they build a checked request (``operations/``) and have
the Session's backend execute it. None of them knows a wire."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Protocol, TypeVar

from ..operations import Operation
from ..retry import OrderSafety
from ..safety import OrderLookup

if TYPE_CHECKING:
    from ._instrument_rules import InstrumentRules

__all__ = ["Caller", "Resource"]

RequestT = TypeVar("RequestT")
ResultT = TypeVar("ResultT")


class Caller(Protocol):
    """What resources need from a Session."""

    async def execute(self, operation: Operation[RequestT, ResultT], request: RequestT) -> ResultT:
        """Run one operation on the Session's backend."""
        ...

    def server_now(self) -> dt.datetime:
        """The exchange's current time."""
        ...

    @property
    def order_safety(self) -> OrderSafety:
        """How order calls recover from a lost answer."""
        ...

    @property
    def order_lookup(self) -> OrderLookup:
        """How order safety finds an order on the Session's backend."""
        ...

    @property
    def instrument_rules(self) -> InstrumentRules:
        """The contracts' tick sizes and size steps, checked before an order is sent."""
        ...


class Resource:
    def __init__(self, session: Caller) -> None:
        self._session = session
