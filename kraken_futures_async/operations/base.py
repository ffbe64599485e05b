"""What an operation is: a name, the typed request it takes and the typed result it gives.

Operations are the seam between what users call and the wire. A resource builds a request
(every argument checked there, once) and hands it to a backend with its operation; the REST
backend finds the operation's route in its endpoint table, the WebSocket backend its method
or channel. Nothing here knows a path, a header or a wire name.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

import attrs

__all__ = ["NO_ARGUMENTS", "NoArguments", "Operation"]

RequestT = TypeVar("RequestT")
ResultT = TypeVar("ResultT")


@attrs.frozen(repr=False)
class Operation(Generic[RequestT, ResultT]):
    """One thing the exchange can do, typed by its request and its result.

    ``result`` is the type the answer is structured into (``list[Ticker]``, ``OrderBook``);
    every backend decodes into it through the one converter.
    """

    name: str
    request: type[RequestT]
    result: Any
    #: What the operation does, for error messages and the coverage listing.
    summary: str = ""

    def __repr__(self) -> str:
        return f"<Operation {self.name}>"


@attrs.frozen
class NoArguments:
    """The request of an operation that takes none (``tickers``, ``accounts``, ...)."""


#: The one instance every argument-less call passes.
NO_ARGUMENTS = NoArguments()
