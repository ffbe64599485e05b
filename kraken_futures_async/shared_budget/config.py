"""How a Session reaches the shared budget: ``Session(shared_budget=...)``."""

from __future__ import annotations

from typing import Any

import attrs

from ..errors import InvalidArgumentError

__all__ = ["SharedBudget"]


def _check_share(_instance: object, _attribute: object, value: float | None) -> None:
    if value is not None and not 0.0 < value <= 1.0:
        raise InvalidArgumentError(
            f"fallback_share is a share of the budget in (0, 1], got {value}"
        )


@attrs.frozen(kw_only=True)
class SharedBudget:
    """Where several processes on one API key keep its rate-limit budget and nonce.

    ``url`` is a Redis URL (``redis://host:port/db``; a password in it never shows in a log);
    ``client`` an already built ``redis.asyncio.Redis`` instead (the Session then leaves it
    open). ``fallback_share``: the share of the budget each process may spend on its own
    while Redis is away (0.25 keeps four processes under the exchange's limit; give
    ``1 / processes`` or less). ``None`` disables the fallback: a call while Redis is away
    raises :class:`~kraken_futures_async.shared_budget.SharedBudgetUnavailableError` without
    sending. A Session whose Redis does not answer when it opens raises that error too (a
    wrong URL should not pass unnoticed), unless ``fallback_at_start`` lets it start on the
    fallback.
    """

    url: str = "redis://127.0.0.1:6379/0"
    client: Any = attrs.field(default=None, repr=False)
    fallback_share: float | None = attrs.field(default=0.25, validator=_check_share)
    #: Open on the fallback when Redis does not answer at start (needs ``fallback_share``).
    fallback_at_start: bool = False
    #: Prefix of every Redis key (followed by a hash of the API key, never the key).
    key_prefix: str = "kraken_futures_async"
    #: Seconds one Redis command may take before Redis counts as away.
    timeout: float = 0.5
    #: Seconds between two pings while Redis is away.
    probe_interval: float = 0.25
    #: Longest wait between two looks at the shared window.
    max_poll: float = 0.25
    #: How often a waiter behind another process's call looks again.
    min_poll: float = 0.002
    #: Seconds a waiting ticket stays in line without its process looking (a crash).
    lease: float = 2.0
    #: Seconds between two signs of life of this process in Redis.
    heartbeat: float = 1.0
    #: A process silent this long may be on its fallback (cut off from Redis alone): the
    #: others leave it its share. Keep it well under the budget's window (10 s on Kraken), the
    #: time a process's fallback stays closed after Redis failed.
    absent_after: float = 3.0
    #: A process silent this long is gone (crashed); a clean close says so at once.
    forget_after: float = 300.0

    def __attrs_post_init__(self) -> None:
        if self.timeout <= 0 or self.probe_interval <= 0 or self.min_poll <= 0:
            raise InvalidArgumentError("the shared budget's timeouts must be positive")
        if self.fallback_at_start and self.fallback_share is None:
            raise InvalidArgumentError("fallback_at_start needs a fallback_share")
        if not 0 < self.heartbeat < self.absent_after < self.forget_after:
            raise InvalidArgumentError("need 0 < heartbeat < absent_after < forget_after")
        if self.lease <= self.max_poll:
            raise InvalidArgumentError("a ticket's lease must outlast the longest poll")
