"""When to send a request again, and how long to wait first.

A retry is only ever automatic when it cannot do anything twice: the request never reached
the exchange (connect failure), the exchange refused it before acting (rate limit, nonce), or
the operation is a read. An order that may have reached the book is never re-sent blindly;
that case goes to reconciliation by client order id instead.
"""

from __future__ import annotations

import random
import warnings

import attrs

from .errors import KrakenFuturesError, ResponseInvalidError

__all__ = ["OrderSafety", "RetryPolicy"]


@attrs.frozen(kw_only=True)
class RetryPolicy:
    """Exponential backoff with jitter and a cap.

    The n-th retry waits ``min(max_delay, base_delay * multiplier ** (n - 1))``, scaled by a
    random factor in ``[1 - jitter, 1]`` so that many clients do not retry in step; a
    ``Retry-After`` (or Kraken's ``rate-limit-reset``) from the exchange is a floor.
    """

    #: Attempts in all, the first included; 1 means never retry.
    max_attempts: int = attrs.field(default=4, validator=attrs.validators.ge(1))
    base_delay: float = attrs.field(default=0.2, validator=attrs.validators.ge(0))
    max_delay: float = attrs.field(default=5.0, validator=attrs.validators.ge(0))
    multiplier: float = attrs.field(default=2.0, validator=attrs.validators.ge(1))
    jitter: float = attrs.field(
        default=0.5, validator=[attrs.validators.ge(0), attrs.validators.le(1)]
    )
    #: Seeds the jitter, for runs that must repeat exactly (tests); None draws a fresh one.
    seed: int | None = None

    def new_rng(self) -> random.Random:
        """A random source for one call's jitter, seeded from ``seed`` when it is set."""
        return random.Random(self.seed)

    @classmethod
    def never(cls) -> RetryPolicy:
        """One attempt, no retry."""
        return cls(max_attempts=1)

    def delay(
        self, retry_number: int, *, rng: random.Random, retry_after: float | None = None
    ) -> float:
        """Seconds to wait before retry number ``retry_number`` (1 for the first retry)."""
        backoff = min(self.max_delay, self.base_delay * self.multiplier ** (retry_number - 1))
        wait = backoff * (1 - self.jitter * rng.random())
        if retry_after is not None:
            wait = max(wait, min(retry_after, self.max_delay * 4))
        return wait

    def should_retry(self, error: KrakenFuturesError, *, idempotent: bool, attempt: int) -> bool:
        """Whether attempt number ``attempt`` (1-based) may be followed by another."""
        if attempt >= self.max_attempts:
            return False
        if error.retry_safe:
            return True
        # A garbled answer to a read can be asked for again; to an order it is ambiguous. An
        # answer past the size cap would only be downloaded again.
        return idempotent and isinstance(error, ResponseInvalidError) and error.max_bytes is None


class OrderSafety:
    """How order calls guard against doing something twice after a lost answer.

    ``process_before``: seconds from the moment an order request leaves (on the exchange's
    clock) after which Kraken must refuse it, set on orders sent without a caller-given
    ``process_before``; it is what lets the library prove that a lost order never executed.
    ``None`` sends none (ambiguous orders are then looked up but never re-sent).
    ``patience``: seconds to keep looking for the truth before raising
    :class:`OrderStatusUnknownError` (``deadline=`` is its old, deprecated name).
    """

    def __init__(
        self,
        *,
        process_before: float | None = 10.0,
        patience: float = 60.0,
        poll_interval: float = 1.0,
        deadline: float | None = None,
    ) -> None:
        if deadline is not None:
            warnings.warn(
                "OrderSafety(deadline=...) is now OrderSafety(patience=...): a call's deadline "
                "is Session(deadline=...), an order's is process_before",
                DeprecationWarning,
                stacklevel=2,
            )
            patience = deadline
        if process_before is not None and process_before <= 0:
            raise ValueError("process_before must be a positive number of seconds")
        if patience <= 0 or poll_interval <= 0:
            raise ValueError("patience and poll_interval must be positive")
        self.process_before = process_before
        self.patience = patience
        self.poll_interval = poll_interval
