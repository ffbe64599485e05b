"""What a stream raises: each a :class:`~kraken_futures_async.KrakenFuturesError`, most also
the REST error of the same meaning (a timeout is a :class:`RequestTimeoutError` on both)::

    StreamError
    ├── StreamConnectionError     the socket could not be (re)opened, or closed for good
    │                             (also a ConnectionFailedError; ``close_code`` when closed)
    ├── StreamTimeoutError        an ack did not come within its deadline (RequestTimeoutError)
    ├── SubscriptionRejectedError Kraken answered ``success: false`` (an APIError; ``code`` is
    │                             Kraken's error string)
    ├── StreamOverflowError       the consumer fell behind a bounded buffer that must not drop
    └── StreamMessageTooLargeError  an inbound message was larger than the cap (also a
                                  ResponseInvalidError with ``max_bytes``)

A book that cannot be verified raises :class:`~kraken_futures_async.streams.BookOutOfSyncError`
only when resubscribing does not heal it.
"""

from __future__ import annotations

from ..errors import (
    APIError,
    ConnectionFailedError,
    KrakenFuturesError,
    RequestTimeoutError,
    ResponseInvalidError,
)

__all__ = [
    "StreamConnectionError",
    "StreamError",
    "StreamMessageTooLargeError",
    "StreamOverflowError",
    "StreamTimeoutError",
    "SubscriptionRejectedError",
]


class StreamError(KrakenFuturesError):
    """A stream failed; the subscription that raised it is over."""


class StreamConnectionError(StreamError, ConnectionFailedError):
    """The socket could not be opened, reconnecting gave up, or Kraken closed it for good."""

    def __init__(self, message: str, *, close_code: int | None = None) -> None:
        super().__init__(message, code=close_code, endpoint="uws")
        self.close_code = close_code


class StreamTimeoutError(StreamError, RequestTimeoutError):
    """A subscribe or unsubscribe ack did not come within its deadline."""


class SubscriptionRejectedError(StreamError, APIError):
    """Kraken refused a subscription; ``code`` holds its error string verbatim."""


class StreamOverflowError(StreamError):
    """The consumer did not keep up: a buffer that never drops silently is full.

    The items received before the overflow were all delivered; the subscription has ended.
    """


class StreamMessageTooLargeError(StreamError, ResponseInvalidError):
    """An inbound message went past the Session's ``max_response_bytes``; the socket is closed."""
