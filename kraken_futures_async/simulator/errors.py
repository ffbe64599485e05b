"""How the engine says "the exchange refuses this request", in the exchange's terms only.

An :class:`ExchangeError` carries Kraken's error code, its message and a :class:`Reason`: why
the exchange refuses, never how a protocol shows it. Each front end renders it: the REST face
(``app.render_error``) picks the HTTP status and Kraken's envelope for the reason and the
operation; a WebSocket face will pick its own message.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["ExchangeError", "Reason"]


class Reason(enum.Enum):
    """Why a request is refused: the part of Kraken that refuses it and on what ground."""

    #: A business refusal by the trading core (``accountInactive``, ``invalidArgument``, ...).
    REFUSED = "refused"
    #: An argument the service cannot read or accept (history, charts, analytics services).
    INVALID_ARGUMENT = "invalid_argument"
    #: The thing asked for does not exist (an unknown contract on the ticker, a subaccount).
    NOT_FOUND = "not_found"
    #: Kraken's newer validation layer refuses: a numeric code and a message.
    VALIDATION = "validation"
    #: No such operation or resource path at all.
    NO_SUCH_ROUTE = "no_such_route"
    #: The exchange tried and failed (Kraken answers these from its validation layer too).
    FAILED = "failed"


class ExchangeError(Exception):
    """A refusal: Kraken's ``code``, its ``message`` and the :class:`Reason` for it.

    ``issues`` are the analytics service's per-field complaints (``type``, ``msg``,
    ``field``), which its refusals list.
    """

    def __init__(
        self,
        code: str | int,
        *,
        reason: Reason = Reason.REFUSED,
        message: str | None = None,
        issues: Sequence[Mapping[str, Any]] | None = None,
    ) -> None:
        super().__init__(message or str(code))
        self.code = code
        self.reason = reason
        self.message = message or str(code)
        self.issues = None if issues is None else tuple(issues)
