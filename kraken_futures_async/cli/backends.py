"""The demo's trading session over each backend: REST, then the Unified WebSocket.

The same :func:`~.jobs.trade` runs over ``Session(...)`` (REST) and over
``Session(..., backend="uws")`` on the same account, so the two can be read side by side.
A step UWS cannot take (market data, fills: :class:`UnsupportedOperationError`) is logged
as skipped with the backend's own reason; the instruments and the book it needs come from
the REST Session. The UWS Session needs the exchange on a real socket (the embedded twin
served on loopback, or ``--base-url``) and a Kraken API key (the twin issues its own).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import attrs

from ..auth import KRAKEN_API_KEY_ENV, KRAKEN_API_SECRET_ENV
from ..errors import KrakenFuturesError
from ..operations import catalog as ops
from ..session import Session
from .jobs import Progress, TradeLog, trade
from .meter import LatencySummary
from .target import Connection

__all__ = ["ORDER_STEPS", "BackendRun", "order_latency", "rest_run", "uws_run"]

#: The steps that are order calls (each one request and its acknowledgement).
ORDER_STEPS = frozenset({"place", "edit", "cancel", "fill", "close"})
NO_KRAKEN_KEY = (
    "needs a Kraken API key with WebSocket access: "
    f"set {KRAKEN_API_KEY_ENV} and {KRAKEN_API_SECRET_ENV}"
)


@attrs.frozen
class BackendRun:
    """One backend's trading session, or why it did not run (``not_run``) or failed."""

    backend: str
    #: Where its calls travel.
    wire: str
    trade: TradeLog | None = None
    #: HTTP requests the session sent (REST: metered; ``None`` where not counted).
    requests: int | None = None
    #: Whether the Session checked orders against the instrument list before sending.
    local_checks: bool = True
    not_run: str | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        """Flat at the end with no refusal; a backend that could not run is not a failure."""
        if self.not_run is not None:
            return True
        log = self.trade
        return (
            self.error is None and log is not None and log.final_position == 0 and not log.refused
        )

    @property
    def order_latency(self) -> LatencySummary:
        return order_latency(self.trade)


def order_latency(log: TradeLog | None) -> LatencySummary:
    """Send-to-ack times of the session's order calls."""
    if log is None:
        return LatencySummary.of([])
    return LatencySummary.of(
        [s.ms / 1e3 for s in log.steps if s.step in ORDER_STEPS and s.skipped is None]
    )


def rest_run(conn: Connection, log: TradeLog, requests: int) -> BackendRun:
    """The REST session the demo already ran, as one column."""
    wire = "HTTP, in-process" if conn.twin is not None else f"HTTP, {conn.target.describe()}"
    return BackendRun("rest", wire, log, requests=requests)


async def uws_run(conn: Connection, symbol: str, progress: Progress) -> BackendRun:
    """The same trading session over ``backend="uws"`` on the same account."""
    from ..uws.backend import private_url

    if conn.served_url is None:
        why = conn.no_streams or "the exchange is not on a socket"
        return BackendRun("uws", "-", not_run=f"needs the exchange on a socket ({why})")
    credentials = conn.credentials
    if credentials is None or not credentials.has_kraken_key:
        return BackendRun("uws", private_url(conn.served_url), not_run=NO_KRAKEN_KEY)
    wire = private_url(conn.served_url)
    session = Session(
        credentials, base_url=conn.served_url, backend="uws", timeout=conn.target.timeout
    )
    # Local order checks need the instrument list: off where the backend cannot fetch it
    # (else every order would log that it went unchecked).
    checks = session.backend.supports(ops.INSTRUMENTS)
    session.instrument_rules.enabled = checks
    if session.backend.supports(ops.ORDERBOOK):
        wire += " (market data: /v2/public)"
    try:
        async with session:
            log = await trade(session, symbol, progress, market=conn.session)
    except KrakenFuturesError as exc:
        return BackendRun("uws", wire, local_checks=checks, error=str(exc))
    return BackendRun("uws", wire, log, local_checks=checks)


def cells(run: BackendRun) -> list[str]:
    """The side-by-side summary's values for one backend, in :data:`ROWS` order."""
    if run.not_run is not None:
        return [run.wire, f"not run: {run.not_run}", *([""] * (len(ROWS) - 2))]
    log = run.trade
    if log is None:
        return [run.wire, f"failed: {run.error}", *([""] * (len(ROWS) - 2))]
    skipped = ", ".join(s.step for s in log.skipped) or "none"
    lat = run.order_latency
    return [
        run.wire,
        f"{log.calls} of {len(log.steps)}",
        skipped,
        "-" if run.requests is None else str(run.requests),
        f"{log.placed} / {log.edited} / {log.cancelled}",
        str(log.market_orders),
        str(log.refused),
        f"{_ms(lat.p50_ms)} / {_ms(lat.max_ms)}",
        "on" if run.local_checks else "off (no instrument list over this backend)",
        f"{log.seconds:.2f} s",
        f"{log.final_position} {log.symbol}",
    ]


#: The side-by-side summary's rows.
ROWS: Sequence[str] = (
    "wire",
    "steps over this backend",
    "skipped (backend cannot)",
    "HTTP requests",
    "orders placed / edited / cancelled",
    "market orders (fill, close)",
    "refusals",
    "order call ms p50 / max",
    "local order checks",
    "session time",
    "final position",
)


def _ms(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.2f}"
