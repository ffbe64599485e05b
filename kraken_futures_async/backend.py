"""The seam between what users call and the wire: the Backend protocol.

A Session holds one backend. Resources hand it typed requests (``operations/``); it answers
with typed results. The REST backend (``rest/``) serves every operation of Kraken's REST API;
the Unified WebSocket backend (``uws/``) those the socket can. Streams are not a backend's:
``kf.stream`` (``streams/``) keeps one socket per Session whatever its backend. Order safety
asks a backend's :class:`~kraken_futures_async.safety.lookup.OrderLookup` what happened to an
order, so its rules hold over either wire.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from .operations import Operation
from .ratelimit import RateLimiter
from .safety.lookup import OrderLookup

__all__ = ["Backend", "Observer", "tell_observers"]

logger = logging.getLogger("kraken_futures_async")

#: Told about every successful call: (operation name, the typed request, the typed result).
Observer = Callable[[str, Any, Any], None]

RequestT = TypeVar("RequestT")
ResultT = TypeVar("ResultT")
ItemT = TypeVar("ItemT", covariant=True)


class Backend(Protocol):
    """What a Session needs from a wire."""

    #: Short and human: ``"rest"``, ``"uws"``; error messages name it.
    name: str

    def supports(self, operation: Operation[Any, Any]) -> bool:
        """Whether :meth:`execute` can serve ``operation`` (checked before anything is sent)."""
        ...

    def why_unsupported(self, operation: Operation[Any, Any]) -> str:
        """The message of the UnsupportedOperationError for ``operation``: it names the
        operation and the backend, and what to use instead where there is something."""
        ...

    async def execute(self, operation: Operation[RequestT, ResultT], request: RequestT) -> ResultT:
        """Run one operation: wait for its budget, send, read, and return the typed result."""
        ...

    def server_now(self) -> dt.datetime:
        """The exchange's current time, as estimated from what it last said."""
        ...

    def add_observer(self, observer: Observer) -> None:
        """Tell ``observer`` about every successful call, order safety's lookups included."""
        ...

    @property
    def order_lookup(self) -> OrderLookup:
        """How order safety finds out what happened to an order after a lost answer."""
        ...

    @property
    def limiter(self) -> RateLimiter:
        """The rate-limit budgets this backend waits on."""
        ...

    async def open(self) -> None:
        """Connect (pools, sockets); called once by ``async with Session(...)``."""
        ...

    async def aclose(self) -> None:
        """Release every connection; calling it again does nothing."""
        ...


def tell_observers(observers: list[Observer], operation: str, request: Any, result: Any) -> None:
    """An observer's failure is logged, never raised: the call itself succeeded."""
    for observer in observers:
        try:
            observer(operation, request, result)
        except Exception:
            logger.exception("%s: an observer failed on the result", operation)
