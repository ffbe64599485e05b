"""The exception tree. Every error the library raises derives from :class:`KrakenFuturesError`.

::

    KrakenFuturesError
    ├── ConfigurationError          bad set-up (credentials, base URL); raised locally
    │   └── MissingCredentialsError a private call on a Session without credentials
    ├── InvalidArgumentError        bad call arguments; raised before anything is sent
    ├── SessionStateError           a Session used before ``async with`` or after close
    ├── UnsupportedOperationError   the Session's backend cannot do this; raised before sending
    ├── TransportError              the HTTP exchange failed (``__cause__`` is httpx's error)
    │   ├── ConnectionFailedError   nothing reached the exchange: always safe to retry
    │   └── RequestTimeoutError     no answer in time; unless ``sent`` is False it may have run
    ├── APIError                    the exchange answered with an error
    │   ├── AuthenticationError     authenticationError, code 18, HTTP 401/403
    │   │   └── NonceError          nonceBelowThreshold, nonceDuplicate (retry with a new nonce)
    │   ├── AccountInactiveError    accountInactive
    │   ├── RateLimitError          apiLimitExceeded, code 10, HTTP 429
    │   ├── InvalidRequestError     invalidArgument, requiredArgumentMissing, code 11, HTTP 400,
    │   │                           any redirect (HTTP 3xx: Kraken never redirects its API) ...
    │   │   ├── NotFoundError       notFound, contractNotFound, HTTP 404
    │   │   ├── RestApiRetiredError the production REST API answered that it is gone
    │   │   └── InsufficientFundsError  insufficientFunds, code 92 INSUFFICIENT_MARGIN
    │   ├── UnavailableError        Unavailable, marketUnavailable, Server Error, 5xx, maintenance
    │   └── UnknownAPIError         a code this library does not know (kept verbatim)
    ├── OrderRejectedError          sendStatus / editStatus / cancelStatus was not a success
    ├── OrderStatusUnknownError     an order's fate could not be established in time
    └── ResponseInvalidError        the answer could not be read as the documented shape, or
                                    was larger than ``max_response_bytes`` (``max_bytes`` set)

Each error carries ``code`` (Kraken's code, verbatim), ``endpoint`` (the operation's name)
and ``retry_safe``: whether sending the same request again cannot do harm.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "APIError",
    "AccountInactiveError",
    "AuthenticationError",
    "ConfigurationError",
    "ConnectionFailedError",
    "InsufficientFundsError",
    "InvalidArgumentError",
    "InvalidRequestError",
    "KrakenFuturesError",
    "MissingCredentialsError",
    "NonceError",
    "NotFoundError",
    "OrderRejectedError",
    "OrderStatusUnknownError",
    "RateLimitError",
    "RequestTimeoutError",
    "ResponseInvalidError",
    "RestApiRetiredError",
    "SessionStateError",
    "TransportError",
    "UnavailableError",
    "UnknownAPIError",
    "UnsupportedOperationError",
    "error_class_for_code",
]


class KrakenFuturesError(Exception):
    """Root of every error raised by kraken_futures_async."""

    #: Whether the same request may be sent again without risk of doing something twice.
    retry_safe: bool = False

    def __init__(
        self,
        message: str,
        *,
        code: str | int | None = None,
        endpoint: str | None = None,
        retry_safe: bool | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.endpoint = endpoint
        if retry_safe is not None:
            self.retry_safe = retry_safe

    def __str__(self) -> str:
        where = f"{self.endpoint}: " if self.endpoint else ""
        code = f"[{self.code}] " if self.code is not None else ""
        return f"{where}{code}{self.message}"


class ConfigurationError(KrakenFuturesError, ValueError):
    """The Session or its credentials are set up wrongly."""


class MissingCredentialsError(ConfigurationError):
    """A private endpoint was called on a Session that has no credentials."""


class InvalidArgumentError(KrakenFuturesError, ValueError):
    """A call's arguments are invalid; raised before any request is queued or sent."""


class SessionStateError(KrakenFuturesError, RuntimeError):
    """The Session is not open (use ``async with Session(...)``) or was closed."""


class UnsupportedOperationError(KrakenFuturesError, NotImplementedError):
    """The Session's backend cannot serve the operation; nothing was sent.

    The message names the operation, the backend, and what to use instead where there is
    something.
    """


class TransportError(KrakenFuturesError):
    """The HTTP exchange itself failed; whether the exchange acted on it is unknown."""


class ConnectionFailedError(TransportError):
    """No connection could be made, so nothing was sent."""

    retry_safe = True


class RequestTimeoutError(TransportError):
    """No answer came in time.

    ``sent`` is False only when the call's deadline passed before the request left the rate
    limiter: then nothing was sent. Otherwise the request may have been executed.
    """

    def __init__(
        self,
        message: str,
        *,
        code: str | int | None = None,
        endpoint: str | None = None,
        retry_safe: bool | None = None,
        sent: bool = True,
    ) -> None:
        super().__init__(message, code=code, endpoint=endpoint, retry_safe=retry_safe)
        self.sent = sent


class APIError(KrakenFuturesError):
    """The exchange answered, and the answer is an error."""

    def __init__(
        self,
        message: str,
        *,
        code: str | int | None = None,
        endpoint: str | None = None,
        retry_safe: bool | None = None,
        http_status: int | None = None,
        payload: Any = None,
    ) -> None:
        super().__init__(message, code=code, endpoint=endpoint, retry_safe=retry_safe)
        self.http_status = http_status
        self.payload = payload


class AuthenticationError(APIError):
    """Key, signature or permission refused (Kraken uses one code for all of them)."""


class NonceError(AuthenticationError):
    """The nonce was refused; the request was not executed, so a re-signed retry is safe."""

    retry_safe = True


class AccountInactiveError(APIError):
    """The account is inactive or has no history for this call."""


class RateLimitError(APIError):
    """The exchange refused the request for exceeding a rate limit; it was not executed."""

    retry_safe = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class InvalidRequestError(APIError):
    """The exchange refused the request's content; sending it again will not help."""


class NotFoundError(InvalidRequestError):
    """The path, contract or object does not exist."""


class RestApiRetiredError(InvalidRequestError):
    """Kraken's production REST API answered that it is gone; use ``backend="uws"``
    (:mod:`kraken_futures_async.rest.retirement` says when and how it is recognised).

    Not retry-safe and never retried: asking again gets the same answer.
    """


class InsufficientFundsError(InvalidRequestError):
    """Not enough funds or margin for the request."""


class UnavailableError(APIError):
    """The exchange or a market is unavailable (maintenance, 5xx, engine down)."""


class UnknownAPIError(APIError):
    """An error code this library does not know; ``code`` holds it verbatim."""


class OrderRejectedError(KrakenFuturesError):
    """An order request was assessed and refused: ``status`` says why, ``result`` has the rest."""

    def __init__(
        self,
        message: str,
        *,
        status: str,
        result: Any = None,
        order_id: str | None = None,
        cli_ord_id: str | None = None,
        endpoint: str | None = None,
    ) -> None:
        super().__init__(message, code=status, endpoint=endpoint, retry_safe=False)
        self.status = status
        self.result = result
        self.order_id = order_id
        self.cli_ord_id = cli_ord_id


class OrderStatusUnknownError(KrakenFuturesError):
    """An order request may or may not have reached the book; look it up by ``cli_ord_id``."""

    def __init__(
        self, message: str, *, cli_ord_id: str | None, endpoint: str | None = None
    ) -> None:
        super().__init__(message, endpoint=endpoint, retry_safe=False)
        self.cli_ord_id = cli_ord_id


class ResponseInvalidError(KrakenFuturesError):
    """The exchange's answer does not have the documented shape, or is too large to read.

    ``max_bytes`` is set (to the cap it went past) when the answer was larger than the
    Session's ``max_response_bytes``; such an answer is not asked for again.
    """

    def __init__(
        self,
        message: str,
        *,
        endpoint: str | None = None,
        payload: Any = None,
        max_bytes: int | None = None,
    ) -> None:
        super().__init__(message, endpoint=endpoint)
        self.payload = payload
        self.max_bytes = max_bytes


_CODE_CLASSES: dict[str | int, type[APIError]] = {
    # top-level "error" strings (reference §5.2 and codes seen from clients)
    "authenticationError": AuthenticationError,
    "nonceBelowThreshold": NonceError,
    "nonceDuplicate": NonceError,
    "accountInactive": AccountInactiveError,
    "apiLimitExceeded": RateLimitError,
    "insufficientFunds": InsufficientFundsError,
    "insufficientAvailableFunds": InsufficientFundsError,
    "invalidAccount": InvalidRequestError,
    "invalidAmount": InvalidRequestError,
    "invalidArgument": InvalidRequestError,
    "invalidUnit": InvalidRequestError,
    "invalidSize": InvalidRequestError,
    "Json Parse Error": InvalidRequestError,
    "requiredArgumentMissing": InvalidRequestError,
    "Bad Request": InvalidRequestError,
    "notFound": NotFoundError,
    "contractNotFound": NotFoundError,
    "marketUnavailable": UnavailableError,
    "Unavailable": UnavailableError,
    "Server Error": UnavailableError,
    "unknownError": UnavailableError,
    # structured errors[].code numbers
    10: RateLimitError,
    11: InvalidRequestError,
    18: AuthenticationError,
    41: InvalidRequestError,
    87: NotFoundError,
    88: InvalidRequestError,
    89: NotFoundError,
    90: InvalidRequestError,
    92: InsufficientFundsError,
}

_STATUS_CLASSES: dict[int, type[APIError]] = {
    400: InvalidRequestError,
    401: AuthenticationError,
    403: AuthenticationError,
    404: NotFoundError,
    429: RateLimitError,
}


def error_class_for_code(code: str | int | None, http_status: int | None = None) -> type[APIError]:
    """Exact lookup of a Kraken code (``invalidArgument: limitPrice`` matches its prefix)."""
    if isinstance(code, str) and code not in _CODE_CLASSES and ":" in code:
        code = code.split(":", 1)[0].strip()
    if code is not None and code in _CODE_CLASSES:
        return _CODE_CLASSES[code]
    if http_status is not None:
        if http_status in _STATUS_CLASSES:
            return _STATUS_CLASSES[http_status]
        if http_status >= 500:
            return UnavailableError
    return UnknownAPIError
