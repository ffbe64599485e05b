"""The retry policy: what may be retried, and how long the waits are."""

from __future__ import annotations

import random

import pytest

from kraken_futures_async.errors import (
    ConnectionFailedError,
    InvalidRequestError,
    NonceError,
    OrderRejectedError,
    RateLimitError,
    RequestTimeoutError,
    ResponseInvalidError,
    UnavailableError,
)
from kraken_futures_async.retry import RetryPolicy


class _TopRandom(random.Random):
    """A Random whose draws are always the given value, to pin jitter."""

    def __init__(self, value: float) -> None:
        super().__init__(0)
        self._value = value

    def random(self) -> float:
        return self._value


def test_backoff_grows_exponentially_up_to_the_cap() -> None:
    policy = RetryPolicy(base_delay=0.1, multiplier=2, max_delay=0.5, jitter=0)
    waits = [policy.delay(n, rng=random.Random(1)) for n in range(1, 6)]
    assert waits == pytest.approx([0.1, 0.2, 0.4, 0.5, 0.5])


def test_jitter_scales_the_wait_down_by_at_most_the_jitter_fraction() -> None:
    policy = RetryPolicy(base_delay=1, jitter=0.5, max_delay=10)
    assert policy.delay(1, rng=_TopRandom(0.0)) == pytest.approx(1.0)
    assert policy.delay(1, rng=_TopRandom(0.999999)) == pytest.approx(0.5, abs=1e-5)
    rng = random.Random(7)
    samples = [policy.delay(2, rng=rng) for _ in range(200)]
    assert min(samples) >= 1.0
    assert max(samples) <= 2.0
    assert len({round(s, 6) for s in samples}) > 100  # really spread out


def test_retry_after_is_a_floor() -> None:
    policy = RetryPolicy(base_delay=0.1, jitter=0)
    assert policy.delay(1, rng=random.Random(0), retry_after=3.0) == pytest.approx(3.0)
    assert policy.delay(1, rng=random.Random(0), retry_after=0.01) == pytest.approx(0.1)


@pytest.mark.parametrize(
    ("error", "idempotent", "expected"),
    [
        (ConnectionFailedError("refused"), False, True),
        (NonceError("dup", code="nonceDuplicate"), False, True),
        (RateLimitError("slow down", code="apiLimitExceeded"), False, True),
        (UnavailableError("down", retry_safe=True), True, True),
        (UnavailableError("down", retry_safe=False), False, False),
        (RequestTimeoutError("late", retry_safe=True), True, True),
        (RequestTimeoutError("late", retry_safe=False), False, False),
        (ResponseInvalidError("garbled"), True, True),
        (ResponseInvalidError("garbled"), False, False),
        (InvalidRequestError("bad", code="invalidArgument"), True, False),
        (OrderRejectedError("no", status="invalidPrice"), False, False),
    ],
)
def test_what_is_retried(error: Exception, idempotent: bool, expected: bool) -> None:
    from kraken_futures_async.errors import KrakenFuturesError

    assert isinstance(error, KrakenFuturesError)
    assert RetryPolicy().should_retry(error, idempotent=idempotent, attempt=1) is expected


def test_attempts_are_bounded() -> None:
    policy = RetryPolicy(max_attempts=3)
    error = ConnectionFailedError("refused")
    assert policy.should_retry(error, idempotent=True, attempt=2)
    assert not policy.should_retry(error, idempotent=True, attempt=3)
    assert not RetryPolicy.never().should_retry(error, idempotent=True, attempt=1)


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="max_attempts"):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ValueError, match="jitter"):
        RetryPolicy(jitter=1.5)
