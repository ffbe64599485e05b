"""Seeded faults on the private socket: the ways an order request over a socket goes astray.

A :class:`SocketFaultRule` names a kind, the trading methods it strikes (``add_order`` by
default) and a probability; :attr:`.UwsConfig.socket_faults` holds the rules and
:attr:`.UwsConfig.fault_seed` seeds the dice, so the same requests meet the same faults. At
most one rule strikes a request (each rolled in turn). The kinds, around the engine:

* ``drop_before``: the socket is aborted (the client sees 1006) and the request never
  reaches the engine; neither do the requests queued behind it on that socket;
* ``drop_after``: the engine applies the request, then the socket is aborted before the ack
  (and before the executions events the request caused) can leave;
* ``ack_lost``: the engine applies it and no ack is ever sent; the socket stays up, so the
  executions events still arrive;
* ``ack_delayed``: the engine applies it and the ack leaves ``delay`` seconds later (its
  ``time_out`` is when it leaves); events the request caused are not held back;
* ``request_lost``: the request vanishes on the way in: the socket stays up, the engine never
  sees it, no ack comes (the one ambiguous case a live executions stream can prove empty).

Each fault that fires is written down (:class:`SocketFaultEvent`: kind, method, ``req_id``,
``cl_ord_id``), so a test compares what the client was told with what really happened.
"""

from __future__ import annotations

import enum
import random
from collections import Counter, deque
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

__all__ = ["KEPT_EVENTS", "SocketFault", "SocketFaultEvent", "SocketFaultRule", "SocketFaults"]

#: Fault events kept in order (the counts are exact however long the twin runs).
KEPT_EVENTS = 10_000


class SocketFault(enum.Enum):
    DROP_BEFORE = "drop_before"
    DROP_AFTER = "drop_after"
    ACK_LOST = "ack_lost"
    ACK_DELAYED = "ack_delayed"
    REQUEST_LOST = "request_lost"


def _methods(methods: Iterable[str]) -> frozenset[str]:
    return frozenset(methods)


def _probability(_instance: object, _attribute: object, value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"a fault's probability is within 0..1, got {value!r}")


def _delay(_instance: object, _attribute: object, value: float) -> None:
    if not 0.0 <= value <= 3600.0:
        raise ValueError(f"a fault's delay is within 0..3600 seconds, got {value!r}")


@attrs.frozen(kw_only=True)
class SocketFaultRule:
    """One kind of fault, striking ``methods`` with ``probability`` (``delay``: seconds an
    ``ack_delayed`` ack waits)."""

    kind: SocketFault
    probability: float = attrs.field(default=1.0, validator=_probability)
    methods: frozenset[str] = attrs.field(default=frozenset({"add_order"}), converter=_methods)
    delay: float = attrs.field(default=0.0, validator=_delay)


@attrs.frozen
class SocketFaultEvent:
    """A fault that fired, and the request it struck."""

    kind: SocketFault
    method: str
    req_id: int | None
    cl_ord_id: str | None
    delay: float = 0.0


class SocketFaults:
    """The dice and the record of one twin's socket faults (built from its UwsConfig)."""

    def __init__(
        self, rules: Iterable[SocketFaultRule] = (), seed: int = 0, kept: int = KEPT_EVENTS
    ) -> None:
        self.rules = tuple(rules)
        self.seed = seed
        self._random = random.Random(seed)
        #: The latest ``kept`` faults that fired, in order.
        self.events: deque[SocketFaultEvent] = deque(maxlen=kept)
        self.counts: Counter[SocketFault] = Counter()

    def roll(
        self, method: str, req_id: int | None, params: Mapping[str, Any]
    ) -> SocketFaultEvent | None:
        """The fault striking this request, if any (recorded), or None."""
        for rule in self.rules:
            if method not in rule.methods:
                continue
            if self._random.random() >= rule.probability:
                continue
            cl_ord_id = params.get("cl_ord_id")
            event = SocketFaultEvent(
                rule.kind,
                method,
                req_id,
                cl_ord_id if isinstance(cl_ord_id, str) else None,
                rule.delay,
            )
            self.events.append(event)
            self.counts[rule.kind] += 1
            return event
        return None
