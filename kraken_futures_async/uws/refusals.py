"""What a refused ack raises: the library's error for Kraken's error string (routes choice 5
for orders, choice 15 for leverage), the string kept verbatim in the message."""

from __future__ import annotations

from typing import Any

from ..errors import (
    AuthenticationError,
    InsufficientFundsError,
    InvalidRequestError,
    KrakenFuturesError,
    OrderRejectedError,
    RateLimitError,
)
from .registrations import Message
from .routes import TOKEN_ERRORS, classify, is_rate_limit

__all__ = ["error_text", "order_refusal", "preference_refusal"]


def error_text(ack: Message) -> str:
    error = ack.get("error")
    return error if isinstance(error, str) else "refused without an error string"


def _session_refusal(text: str, method: str) -> KrakenFuturesError | None:
    """Refusals of the socket or the key rather than of the request itself."""
    if is_rate_limit(text):
        return RateLimitError(f"Kraken refused {method}: {text}", code=text, endpoint=method)
    if text in TOKEN_ERRORS or text == "EGeneral:Permission denied":
        return AuthenticationError(f"Kraken refused {method}: {text}", code=text, endpoint=method)
    return None


def order_refusal(
    ack: Message,
    method: str,
    *,
    result: Any = None,
    order_id: str | None = None,
    cli_ord_id: str | None = None,
) -> KrakenFuturesError:
    """An order request refused: ``OrderRejectedError`` with REST's status where one fits."""
    text = error_text(ack)
    found = _session_refusal(text, method)
    if found is not None:
        return found
    status = classify(text, method)
    return OrderRejectedError(
        f"Kraken refused {method}: {text}",
        status=status.value if status is not None else text,
        result=result,
        order_id=order_id,
        cli_ord_id=cli_ord_id,
        endpoint=method,
    )


def preference_refusal(ack: Message) -> KrakenFuturesError:
    """``set_preference`` refused: about margin or liquidation ``InsufficientFundsError``,
    otherwise ``InvalidRequestError``, as REST's refusals of the same call."""
    method = "set_preference"
    text = error_text(ack)
    found = _session_refusal(text, method)
    if found is not None:
        return found
    words = text.lower()
    kind = InsufficientFundsError if "margin" in words or "liquidation" in words else None
    return (kind or InvalidRequestError)(
        f"Kraken refused {method}: {text}", code=text, endpoint=method
    )
