"""Everything a twin is built from, in one frozen value: same config, same twin.

The seed drives API keys, account ids, fault dice and the engine's prices; the clock drives
every time-dependent rule. Rate limits follow Kraken's documentation unless switched off.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from types import MappingProxyType

import attrs

from .clock import Clock, SystemClock
from .faults import FaultRule

__all__ = ["DEFAULT_BALANCES", "BucketLimit", "TwinConfig"]

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
        return self.capacity / self.period


def _rules(value: Iterable[FaultRule]) -> tuple[FaultRule, ...]:
    return tuple(value)


def _frozen_balances(value: Mapping[str, Decimal]) -> Mapping[str, Decimal]:
    return MappingProxyType({k: Decimal(v) for k, v in value.items()})


@attrs.frozen(kw_only=True)
class TwinConfig:
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
    #: Most nonces remembered per key for duplicate detection; older ones become the floor.
    nonce_memory: int = 65_536
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
