"""Faults on demand: the ways a real exchange and the network between fail, seeded.

A :class:`FaultRule` names a kind, a route (an operation name or ``"*"``) and when it fires:
with a probability, on the next ``times`` matching requests, or both (each time with that
probability until it fired ``times`` times); neither means every time. Dice come from one
``random.Random`` seeded by the twin's seed, so the same calls meet the same faults.

Faults act in two phases around the engine:

* before: ``latency`` (added, then the request goes on), ``server_error`` (5xx HTML or
  JSON), ``maintenance`` (an HTML page), ``rate_limited`` (``apiLimitExceeded``) and
  ``drop_before`` (connection dropped; the engine never sees the request);
* after the engine acted: ``slow_response`` (the answer waits, long enough to trip a client
  timeout), ``malformed`` (the body is cut short) and ``drop_after`` (the answer is lost).

The injector records what fired, so tests assert on faults instead of guessing: exact counts
of every fault ever fired, and the latest ``kept_events`` of them in order (an eighth more
before a trim: a twin with a fault rule on ``"*"`` may run for days).
"""

from __future__ import annotations

import enum
import random
import threading
from collections import Counter

import attrs

__all__ = [
    "KEPT_EVENTS",
    "ConnectionDroppedError",
    "FaultEvent",
    "FaultInjector",
    "FaultKind",
    "FaultPlan",
    "FaultRule",
    "maintenance_page",
    "server_error_page",
    "truncate",
]


class FaultKind(enum.Enum):
    """What a fault does to a request: delay it, answer 5xx, a maintenance page or a rate-
    limit refusal, drop the connection before or after the exchange acted, trickle or
    garble the answer."""

    LATENCY = "latency"
    SERVER_ERROR = "server_error"
    MAINTENANCE = "maintenance"
    RATE_LIMITED = "rate_limited"
    DROP_BEFORE = "drop_before"
    SLOW_RESPONSE = "slow_response"
    MALFORMED = "malformed"
    DROP_AFTER = "drop_after"


_BEFORE = frozenset(
    {
        FaultKind.SERVER_ERROR,
        FaultKind.MAINTENANCE,
        FaultKind.RATE_LIMITED,
        FaultKind.DROP_BEFORE,
    }
)
_AFTER = frozenset({FaultKind.MALFORMED, FaultKind.DROP_AFTER})


class ConnectionDroppedError(Exception):
    """The twin drops the connection; the in-process transport turns it into an httpx error.

    Under uvicorn the app has already sent a response head with a content length, so the
    server aborts the connection mid-response and the client sees a broken read.
    """

    def __init__(self, *, after_processing: bool) -> None:
        when = "after" if after_processing else "before"
        super().__init__(f"connection dropped {when} the exchange processed the request")
        self.after_processing = after_processing


def _probability(_instance: object, _attribute: object, value: float | None) -> None:
    if value is not None and not (0.0 <= value <= 1.0):
        raise ValueError("probability must be between 0 and 1")


def _positive(_instance: object, _attribute: object, value: int | None) -> None:
    if value is not None and value < 1:
        raise ValueError("times must be at least 1")


def _not_negative(_instance: object, _attribute: object, value: float) -> None:
    if value < 0:
        raise ValueError("delay must not be negative")


@attrs.frozen(kw_only=True)
class FaultRule:
    """When and where one kind of fault strikes (a value: the injector keeps the counts)."""

    kind: FaultKind = attrs.field(converter=FaultKind)
    #: An operation name from the endpoint table (``"send_order"``) or ``"*"`` for all.
    route: str = "*"
    probability: float | None = attrs.field(default=None, validator=_probability)
    #: Fire on this many matching requests, then retire.
    times: int | None = attrs.field(default=None, validator=_positive)
    #: Seconds, for ``latency`` and ``slow_response``.
    delay: float = attrs.field(default=0.0, validator=_not_negative)
    #: HTTP status for ``server_error`` (default 502) and ``maintenance`` (default 503).
    status: int | None = None
    #: ``server_error`` body: an HTML proxy page, or Kraken's JSON ``Server Error``.
    html: bool = True

    def matches(self, operation: str) -> bool:
        """Whether the rule applies to ``operation``, an endpoint-table name (``*`` matches
        every one)."""
        return self.route == "*" or self.route == operation


@attrs.frozen
class FaultEvent:
    kind: FaultKind
    operation: str


@attrs.frozen
class FaultPlan:
    """What one phase of one request meets: a delay, and at most one terminal fault."""

    delay: float = 0.0
    fault: FaultRule | None = None


_NOTHING = FaultPlan()


class _Active:
    __slots__ = ("remaining", "rule")

    def __init__(self, rule: FaultRule) -> None:
        self.rule = rule
        self.remaining = rule.times


#: Default number of fired faults kept in ``FaultInjector.events``.
KEPT_EVENTS = 10_000


class FaultInjector:
    """The twin's active fault rules, its dice, and a record of the faults that fired."""

    def __init__(
        self, seed: int = 0, rules: tuple[FaultRule, ...] = (), *, kept_events: int = KEPT_EVENTS
    ) -> None:
        self._rng = random.Random(f"faults:{seed}")
        self._active: list[_Active] = [_Active(rule) for rule in rules]
        self._lock = threading.Lock()
        #: The latest ``kept_events`` faults that fired (up to an eighth more), in order.
        self.events: list[FaultEvent] = []
        self._kept = kept_events
        #: How often each kind fired on each operation, ever.
        self._fired: Counter[tuple[FaultKind, str]] = Counter()

    def add(
        self,
        kind: FaultKind | str | FaultRule,
        route: str = "*",
        *,
        probability: float | None = None,
        times: int | None = None,
        delay: float = 0.0,
        status: int | None = None,
        html: bool = True,
    ) -> FaultRule:
        """Activate a rule (built from the arguments unless a rule is given) and return it."""
        if isinstance(kind, FaultRule):
            rule = kind
        else:
            rule = FaultRule(
                kind=FaultKind(kind),
                route=route,
                probability=probability,
                times=times,
                delay=delay,
                status=status,
                html=html,
            )
        with self._lock:
            self._active.append(_Active(rule))
        return rule

    def remove(self, rule: FaultRule) -> None:
        """Stop injecting ``rule``."""
        with self._lock:
            self._active = [a for a in self._active if a.rule is not rule]

    def clear(self) -> None:
        """Deactivate every rule (the record of what fired stays)."""
        with self._lock:
            self._active = []

    @property
    def rules(self) -> tuple[FaultRule, ...]:
        """The rules in force, in the order they were added."""
        with self._lock:
            return tuple(a.rule for a in self._active)

    @property
    def counts(self) -> Counter[FaultKind]:
        """How often each kind fired, ever."""
        with self._lock:
            fired = list(self._fired.items())
        counts: Counter[FaultKind] = Counter()
        for (kind, _operation), times in fired:
            counts[kind] += times
        return counts

    def fired(self, kind: FaultKind | str, route: str | None = None) -> int:
        """How often ``kind`` fired, ever (on ``route`` only, if given)."""
        wanted = FaultKind(kind)
        with self._lock:
            fired = list(self._fired.items())
        return sum(
            times
            for (k, operation), times in fired
            if k is wanted and (route is None or operation == route)
        )

    def _record(self, kind: FaultKind, operation: str) -> None:
        self._fired[(kind, operation)] += 1
        events = self.events
        events.append(FaultEvent(kind, operation))
        if len(events) > self._kept + self._kept // 8:  # trimmed in batches: O(1) per fault
            del events[: len(events) - self._kept]

    def before(self, operation: str) -> FaultPlan:
        """Roll the faults that strike before the engine sees the request."""
        return self._roll(operation, FaultKind.LATENCY, _BEFORE)

    def after(self, operation: str) -> FaultPlan:
        """Roll the faults that strike once the engine has acted."""
        return self._roll(operation, FaultKind.SLOW_RESPONSE, _AFTER)

    def _roll(
        self, operation: str, delay_kind: FaultKind, terminal: frozenset[FaultKind]
    ) -> FaultPlan:
        if not self._active:
            return _NOTHING
        delay = 0.0
        fault: FaultRule | None = None
        with self._lock:
            for active in self._active:
                rule = active.rule
                if rule.kind is not delay_kind and rule.kind not in terminal:
                    continue
                if not rule.matches(operation) or not self._fires(active):
                    continue
                self._record(rule.kind, operation)
                if rule.kind is delay_kind:
                    delay += rule.delay
                else:
                    fault = rule
                    break
            if any(a.remaining == 0 for a in self._active):
                self._active = [a for a in self._active if a.remaining != 0]
        if fault is None and not delay:
            return _NOTHING
        return FaultPlan(delay, fault)

    def _fires(self, active: _Active) -> bool:
        if active.remaining is not None and active.remaining <= 0:
            return False
        probability = active.rule.probability
        if probability is not None and self._rng.random() >= probability:
            return False
        if active.remaining is not None:
            active.remaining -= 1
        return True


_PAGE = (
    "<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
    "<center><h1>{title}</h1></center>\r\n<hr><center>{server}</center>\r\n"
    "</body>\r\n</html>\r\n"
)


def server_error_page(status: int) -> bytes:
    """A proxy's 5xx page, as a load balancer in front of the exchange serves it."""
    titles = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}
    title = f"{status} {titles.get(status, 'Server Error')}"
    return _PAGE.format(title=title, server="cloudflare").encode()


def maintenance_page() -> bytes:
    return (
        b"<!DOCTYPE html>\n<html><head><title>Kraken Futures | Maintenance</title></head>"
        b"<body><h1>Scheduled maintenance</h1><p>Kraken Futures is currently undergoing "
        b"scheduled maintenance. We will be back shortly.</p></body></html>\n"
    )


def truncate(body: bytes) -> bytes:
    """A JSON text cut in half: what a broken proxy or a half-written buffer delivers."""
    return body[: max(1, len(body) // 2)]
