"""kraken_futures_async: an asyncio client for the Kraken Futures REST API v3.

The names below are the public API; everything else may change between releases.
"""

from .auth import Credentials, NanosecondNonceSource, NonceSource, NoNonce
from .config import DEMO, PRODUCTION, Environment
from .errors import (
    AccountInactiveError,
    APIError,
    AuthenticationError,
    ConfigurationError,
    ConnectionFailedError,
    InsufficientFundsError,
    InvalidArgumentError,
    InvalidRequestError,
    KrakenFuturesError,
    MissingCredentialsError,
    NonceError,
    NotFoundError,
    OrderRejectedError,
    OrderStatusUnknownError,
    RateLimitError,
    RequestTimeoutError,
    ResponseInvalidError,
    RestApiRetiredError,
    SessionStateError,
    TransportError,
    UnavailableError,
    UnknownAPIError,
    UnsupportedOperationError,
)
from .models.enums import OrderType, Side, TrailingStopDeviationUnit, TriggerSignal
from .ratelimit import RateLimitPolicy, WindowLimit
from .resources.orders import BatchOrder
from .retry import OrderSafety, RetryPolicy
from .session import Session

__all__ = [
    "DEMO",
    "PRODUCTION",
    "APIError",
    "AccountInactiveError",
    "AuthenticationError",
    "BatchOrder",
    "ConfigurationError",
    "ConnectionFailedError",
    "Credentials",
    "Environment",
    "InsufficientFundsError",
    "InvalidArgumentError",
    "InvalidRequestError",
    "KrakenFuturesError",
    "MissingCredentialsError",
    "NanosecondNonceSource",
    "NoNonce",
    "NonceError",
    "NonceSource",
    "NotFoundError",
    "OrderRejectedError",
    "OrderSafety",
    "OrderStatusUnknownError",
    "OrderType",
    "RateLimitError",
    "RateLimitPolicy",
    "RequestTimeoutError",
    "ResponseInvalidError",
    "RestApiRetiredError",
    "RetryPolicy",
    "Session",
    "SessionStateError",
    "Side",
    "TrailingStopDeviationUnit",
    "TransportError",
    "TriggerSignal",
    "UnavailableError",
    "UnknownAPIError",
    "UnsupportedOperationError",
    "WindowLimit",
]


def _installed_version() -> str:
    """The version pip installed (pyproject.toml's, one place to change), read at import."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("kraken_futures_async")
    except PackageNotFoundError:  # imported from a source tree that was never installed
        return "0+unknown"


__version__ = _installed_version()
