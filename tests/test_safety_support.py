"""Shared pieces for the order-safety proofs against the twin (this module holds no tests).

* :class:`LoopClock` puts the twin on the running loop's clock, so with ``run_virtual`` the
  exchange, the Session's limiter, its timeouts and its server-clock estimate all follow one
  virtual time and a run of many minutes takes seconds.
* :class:`Ledger` wraps the engine and writes down what it did with every order request:
  the exchange's own truth, to compare with what the caller was told.
* :func:`faulty_twin` builds a twin with about a fifth of all requests failing in every way
  the fault injector knows.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import attrs
import httpx

from kraken_futures_async.models import SendOrderResult
from kraken_futures_async.ratelimit import Budget
from kraken_futures_async.rest.endpoints import ENDPOINTS
from kraken_futures_async.simulator import (
    FaultKind,
    FaultRule,
    InProcessTransport,
    Twin,
    TwinConfig,
)
from kraken_futures_async.simulator.clock import DEFAULT_START
from kraken_futures_async.simulator.engine import Exchange

__all__ = [
    "FAULT_MIX",
    "MARKETS",
    "ORDER_TYPES",
    "Ledger",
    "LoopClock",
    "Outcome",
    "RecordingTransport",
    "Request",
    "client_timeout",
    "faulty_twin",
    "order_arguments",
    "quiet_twin",
]

#: Seconds a timed-out request waits at the twin: longer than any client timeout used here.
SLOW = 60.0


class LoopClock:
    """The twin's clock: a fixed epoch plus the running loop's (virtual) time.

    Outside a running loop (while the twin is being built) it repeats its latest reading.
    """

    def __init__(self, epoch: float = DEFAULT_START) -> None:
        self._epoch = epoch
        self._last = epoch

    def time(self) -> float:
        try:
            now = self._epoch + asyncio.get_running_loop().time()
        except RuntimeError:
            return self._last
        self._last = max(self._last, now)
        return self._last


@attrs.frozen
class Request:
    """One order request as the engine saw it and what it answered."""

    operation: str
    params: Mapping[str, Sequence[str]]
    status: str
    order_id: str | None
    cli_ord_id: str | None


_RESULT_KEYS = {
    "send_order": "sendStatus",
    "edit_order": "editStatus",
    "cancel_order": "cancelStatus",
}


class Ledger:
    """The engine, with a record of every order request it assessed (its answer included)."""

    def __init__(self, inner: Exchange) -> None:
        self.inner = inner
        self.requests: list[Request] = []

    def open_account(self, account_uid: str, balances: dict[str, Decimal], /) -> object:
        self.inner.open_account(account_uid, balances)
        return None

    def handle(
        self, operation: str, params: dict[str, list[str]], account_uid: str | None, /
    ) -> Any:
        payload = self.inner.handle(operation, params, account_uid)
        key = _RESULT_KEYS.get(operation)
        if key is not None:
            status = payload[key]
            order_id = status.get("order_id") or status.get("orderId")
            self.requests.append(
                Request(
                    operation,
                    {k: tuple(v) for k, v in params.items()},
                    str(status["status"]),
                    order_id,
                    next(iter(params.get("cliOrdId", ())), None),
                )
            )
        return payload

    def of(self, operation: str) -> list[Request]:
        return [r for r in self.requests if r.operation == operation]

    def placements(self) -> Counter[str]:
        """How many times each client order id was accepted onto the book."""
        return Counter(
            r.cli_ord_id
            for r in self.of("send_order")
            if r.status == "placed" and r.cli_ord_id is not None
        )


_PRIVATE = tuple(e.name for e in ENDPOINTS if e.private and e.budget is Budget.DERIVATIVES)

#: About 20 % of requests meet one of these (each rolled in turn; at most one strikes per
#: phase): drops before and after the engine acted, proxy 5xx pages and Kraken's JSON ones,
#: answers that time out, bodies cut in half, maintenance pages and rate-limit storms.
FAULT_MIX: tuple[tuple[FaultKind, float], ...] = (
    (FaultKind.DROP_BEFORE, 0.04),
    (FaultKind.SERVER_ERROR, 0.04),
    (FaultKind.MAINTENANCE, 0.005),
    (FaultKind.RATE_LIMITED, 0.005),
    (FaultKind.SLOW_RESPONSE, 0.04),
    (FaultKind.MALFORMED, 0.04),
    (FaultKind.DROP_AFTER, 0.04),
)


def fault_rules(route: str = "*", scale: float = 1.0) -> list[FaultRule]:
    rules: list[FaultRule] = []
    for kind, probability in FAULT_MIX:
        if kind is FaultKind.SERVER_ERROR:
            # half proxy pages, half Kraken's own JSON "Server Error"
            for html in (True, False):
                rules.append(
                    FaultRule(
                        kind=kind, route=route, probability=probability * scale / 2, html=html
                    )
                )
            continue
        if kind is FaultKind.RATE_LIMITED and route == "*":
            # apiLimitExceeded is the private budget's refusal (public calls are limited per
            # IP in front of the exchange), so the storm strikes private operations only
            rules.extend(
                FaultRule(kind=kind, route=name, probability=probability * scale)
                for name in _PRIVATE
            )
            continue
        delay = SLOW if kind is FaultKind.SLOW_RESPONSE else 0.0
        rules.append(
            FaultRule(kind=kind, route=route, probability=probability * scale, delay=delay)
        )
    return rules


def faulty_twin(
    *, seed: int, routes: Iterable[str] = ("*",), scale: float = 1.0
) -> tuple[Twin, Ledger]:
    """A twin on the loop's clock whose requests on ``routes`` fail about 20 % of the time."""
    clock = LoopClock()
    ledger = Ledger(Exchange(seed=seed, clock=clock))
    rules = [rule for route in routes for rule in fault_rules(route, scale)]
    twin = Twin(TwinConfig(seed=seed, clock=clock, faults=tuple(rules)), exchange=ledger)
    return twin, ledger


def quiet_twin(seed: int = 0) -> tuple[Twin, Ledger]:
    """A twin on the loop's clock without faults or rate limits: each test adds its own."""
    clock = LoopClock()
    ledger = Ledger(Exchange(seed=seed, clock=clock))
    return Twin(TwinConfig(seed=seed, clock=clock, rate_limits=False), exchange=ledger), ledger


def client_timeout(seconds: float = 5.0) -> httpx.Timeout:
    return httpx.Timeout(seconds)


class RecordingTransport(InProcessTransport):
    """The in-process transport, keeping every path and each private request's ``Nonce``
    and ``Authent``."""

    def __init__(self, twin: Twin) -> None:
        super().__init__(twin.app)
        self.paths: list[str] = []
        self.nonces: list[str] = []
        self.authents: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.paths.append(request.url.path)
        if "Authent" in request.headers:
            self.nonces.append(request.headers.get("Nonce", ""))
            self.authents.append(request.headers["Authent"])
        return await super().handle_async_request(request)


#: symbol -> (size step, tick): the contracts the fault runs trade.
MARKETS = {
    "PF_XBTUSD": (Decimal("0.0001"), Decimal(1)),
    "PF_ETHUSD": (Decimal("0.001"), Decimal("0.1")),
}
#: The fault runs' order mix (resting limits weigh most).
ORDER_TYPES = ("lmt", "lmt", "lmt", "post", "ioc", "mkt", "stp")


def order_arguments(
    rng: random.Random, ledger: Ledger, index: int, prefix: str = "stress"
) -> dict[str, Any]:
    """A plausible order near the market: resting, marketable, post-only, IOC, market, stop."""
    symbol = rng.choice(sorted(MARKETS))
    step, tick = MARKETS[symbol]
    mark = ledger.inner.mark_price(symbol)
    side = rng.choice(("buy", "sell"))
    kind = rng.choice(ORDER_TYPES)
    args: dict[str, Any] = {
        "symbol": symbol,
        "side": side,
        "size": step * rng.randint(1, 20),
        "order_type": kind,
        "cli_ord_id": f"{prefix}-{index:04d}",
    }
    away = Decimal(rng.uniform(-0.01, 0.01))
    price = (mark * (1 + away) / tick).quantize(Decimal(1)) * tick
    if kind in ("lmt", "post", "ioc"):
        args["limit_price"] = price
    elif kind == "stp":
        # a stop on the far side of the market, so it waits for its trigger
        offset = Decimal("1.02") if side == "buy" else Decimal("0.98")
        args["stop_price"] = (mark * offset / tick).quantize(Decimal(1)) * tick
    return args


@attrs.frozen
class Outcome:
    """What one submission ended in: a result or the error it raised."""

    cli_ord_id: str
    result: SendOrderResult | None = None
    error: BaseException | None = None
