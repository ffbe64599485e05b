"""Everything a twin is built from, in one frozen value: same config, same twin.

The seed drives API keys, account ids, fault dice and the engine's prices; the clock drives
every time-dependent rule. Rate limits follow Kraken's documentation unless switched off.
Everything the twin keeps or accepts per request is bounded here (issue 17): the size of a
request, how long a served connection may take to deliver one, nonce length and memory,
failures and faults kept, and the engine's records (:class:`Retention`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from types import MappingProxyType

import attrs

from .clock import Clock, SystemClock
from .engine.retention import Retention
from .rest.faults import KEPT_EVENTS, FaultRule

__all__ = [
    "DEFAULT_BALANCES",
    "KEPT_FAILURES",
    "MAX_NONCE_DIGITS",
    "MAX_REQUEST_BYTES",
    "MAX_REQUEST_PARAMS",
    "REQUEST_READ_TIMEOUT",
    "BucketLimit",
    "Retention",
    "TwinConfig",
]

#: Default ceiling on a request's query string plus body: 1 MiB, some 25 times Kraken's
#: largest real request (a batch of 100 orders, about 40 KB).
MAX_REQUEST_BYTES = 1 << 20
#: Default most parameters in one request's query string and body together: no real request
#: comes near (a batch is one ``json`` field, ``orders/status`` one field per order id).
MAX_REQUEST_PARAMS = 10_000
#: Default seconds a served connection has to deliver a whole request.
REQUEST_READ_TIMEOUT = 5.0
#: Default longest nonce, in digits: nanoseconds need 19, so 32 is room to spare.
MAX_NONCE_DIGITS = 32
#: Default number of engine failures kept in ``TwinApp.internal_errors``.
KEPT_FAILURES = 100

#: What a new account holds unless told otherwise: enough to trade a few contracts.
DEFAULT_BALANCES: Mapping[str, Decimal] = MappingProxyType({"USD": Decimal("100000")})


@attrs.frozen
class BucketLimit:
    """A token bucket: ``capacity`` units, refilled evenly over ``period`` seconds."""

    capacity: int
    period: float

    def __attrs_post_init__(self) -> None:
        if self.capacity <= 0 or self.period <= 0:
            raise ValueError("a rate limit needs a positive capacity and period")

    @property
    def refill_per_second(self) -> float:
        """The steady rate the bucket allows: its capacity over its period."""
        return self.capacity / self.period


def _rules(value: Iterable[FaultRule]) -> tuple[FaultRule, ...]:
    return tuple(value)


def _frozen_balances(value: Mapping[str, Decimal]) -> Mapping[str, Decimal]:
    return MappingProxyType({k: Decimal(v) for k, v in value.items()})


@attrs.frozen(kw_only=True)
class TwinConfig:
    """Everything that shapes a twin: its seed and clock, rate limits, nonce rules, request
    limits, what it remembers (``Retention``), opening balances and faults."""

    seed: int = 0
    clock: Clock = attrs.field(factory=SystemClock)
    #: Meter Kraken's cost budgets per API key; ``False`` admits everything.
    rate_limits: bool = True
    #: Private ``/derivatives`` calls: 500 cost units per 10 s (reference §6).
    derivatives_budget: BucketLimit = BucketLimit(500, 10.0)
    #: History API: 100 tokens per 10 minutes (its endpoints use ``Budget.HISTORY``).
    history_budget: BucketLimit = BucketLimit(100, 600.0)
    #: How far, in seconds, a nonce may trail the highest one accepted on its key. Nonces are
    #: scaled by their digit count (13 digits = ms, 19 = ns) so one value fits every client.
    nonce_tolerance: float = 10.0
    #: Most nonces remembered per key for duplicate detection; older ones become the floor
    #: (about 0.1 KB each: 6.5 MB for a key at the cap; those further below the highest than
    #: the tolerance are forgotten anyway, so a client needs 6,500 calls a second to fill it).
    nonce_memory: int = 65_536
    #: Longest nonce accepted, in digits (19 = nanoseconds); longer: ``invalidArgument``.
    max_nonce_digits: int = MAX_NONCE_DIGITS
    #: Most bytes of query string plus body one request may carry; more is refused with HTTP
    #: 413 before anything is parsed, and reading stops there.
    max_request_bytes: int = MAX_REQUEST_BYTES
    #: Most parameters (``&``-separated fields of query and body) one request may carry; more
    #: is refused with HTTP 413 before parsing (parsing costs about a microsecond each).
    max_request_params: int = MAX_REQUEST_PARAMS
    #: Served twin only: seconds a connection has to deliver a whole request (head and body)
    #: from its first byte, or from being opened; slower ones are closed.
    request_read_timeout: float = REQUEST_READ_TIMEOUT
    #: Engine failures (HTTP 500) kept in ``twin.app.internal_errors``, latest first out last.
    kept_failures: int = KEPT_FAILURES
    #: Fired faults kept in ``twin.faults.events`` (their counts are kept exactly, forever).
    kept_fault_events: int = KEPT_EVENTS
    #: What the engine keeps of its past (history, fills, tapes, closed and open orders) and
    #: how much it caches of what it computes from the seed (prices, candles, hourly figures).
    retention: Retention = attrs.field(factory=Retention)
    #: Balances of the account the twin opens for its ready-made keys.
    balances: Mapping[str, Decimal] = attrs.field(
        default=DEFAULT_BALANCES, converter=_frozen_balances
    )
    #: Faults active from the start; more can be added at runtime on ``twin.faults``.
    faults: tuple[FaultRule, ...] = attrs.field(default=(), converter=_rules)

    def __attrs_post_init__(self) -> None:
        if self.nonce_tolerance < 0:
            raise ValueError("nonce_tolerance must not be negative")
        if self.nonce_memory < 1:
            raise ValueError("nonce_memory must be at least 1")
        if self.max_nonce_digits < 1:
            raise ValueError("max_nonce_digits must be at least 1")
        if self.max_request_bytes < 0 or self.max_request_params < 1:
            raise ValueError("max_request_bytes must not be negative, max_request_params >= 1")
        if not self.request_read_timeout > 0:
            raise ValueError("request_read_timeout must be positive")
        if self.kept_failures < 1 or self.kept_fault_events < 1:
            raise ValueError("kept_failures and kept_fault_events must be at least 1")
