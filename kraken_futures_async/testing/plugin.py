"""pytest fixtures for testing your own bot against the exchange twin, installed with the package.

``pip install kraken_futures_async`` registers this module as a pytest plugin (entry point
``pytest11``), so any project's tests can ask for these fixtures by name, with nothing to
configure:

``kraken_twin``
    A fresh :class:`~kraken_futures_async.simulator.Twin` on a
    :class:`~kraken_futures_async.simulator.ManualClock` (time moves only when told), with
    :class:`~kraken_futures_async.testing.TwinControl` at ``kraken_twin.control``:
    ``advance(seconds)``, ``move_mark(symbol, price)``, ``fill(order_id)``,
    ``trigger(order_id)``, ``fail_next(operation, kind)``, ``mark(symbol)``.
``kraken_session``
    A signed, open :class:`~kraken_futures_async.Session` on that twin (async fixture: needs
    pytest-asyncio). Its wire is ``kraken_backend`` (``"rest"``, in-process) or, per test,
    ``@pytest.mark.parametrize("kraken_session", ["rest", "uws"], indirect=True)``; ``"uws"``
    serves the twin on loopback (needs the ``sim`` extra: uvicorn, websockets).
``kraken_twin_server``
    The same twin served on ``127.0.0.1`` for other programs: ``.url``, the keys, ``.env()``
    (environment variables a subprocess reads) and ``.control``.
``kraken_twin_config``
    The :class:`~kraken_futures_async.simulator.TwinConfig` the twin is built from; override
    this fixture in your ``conftest.py`` for another seed, balances or faults.

A complete test of a small bot (it rests a bid 1 % under the mark, and once filled offers
the position 2 % above its price); the example is run by the package's own tests::

    from decimal import Decimal

    from kraken_futures_async import Session

    SYMBOL, SIZE = "PF_XBTUSD", Decimal("0.01")


    async def buy_the_dip(kf: Session) -> str:
        mark = (await kf.market.ticker(SYMBOL)).mark_price
        price = (mark * Decimal("0.99")).quantize(Decimal(1))
        placed = await kf.orders.send(symbol=SYMBOL, side="buy", size=SIZE, limit_price=price)
        return placed.order_id


    async def take_profit(kf: Session) -> str | None:
        fills = await kf.orders.fills()
        if not fills:
            return None
        price = (fills[0].price * Decimal("1.02")).quantize(Decimal(1))
        placed = await kf.orders.send(
            symbol=SYMBOL, side="sell", size=SIZE, limit_price=price, reduce_only=True
        )
        return placed.order_id


    async def test_the_bot_buys_the_dip_and_takes_profit(kraken_twin, kraken_session):
        control = kraken_twin.control
        await buy_the_dip(kraken_session)
        assert await take_profit(kraken_session) is None  # nothing filled yet
        control.move_mark(SYMBOL, control.mark(SYMBOL) * Decimal("0.98"))  # the dip
        offer = await take_profit(kraken_session)
        assert {o.order_id for o in await kraken_session.orders.open()} == {offer}
        control.fill(offer)  # someone takes the offer
        assert await kraken_session.account.open_positions() == []


    async def test_the_bot_rides_out_a_502(kraken_twin, kraken_session):
        kraken_twin.control.fail_next("ticker", "server_error")
        await buy_the_dip(kraken_session)  # the Session retried the read
        assert kraken_twin.control.fired("server_error", "ticker") == 1

Over ``"uws"`` the Session's open orders and positions follow its private stream: after a
control call, wait for the push (poll with a timeout) instead of asserting at once. A served
twin's controls run on its server's event loop, between the requests it serves. Tests are
async: ``asyncio_mode = auto``, or mark them ``@pytest.mark.asyncio``.

Names all start with ``kraken_``, so they do not clash with a project's own fixtures.
"""

from __future__ import annotations

import importlib.util
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from ..session import Session
from ..simulator import ManualClock, TwinConfig, run_in_thread
from .control import ControlledTwin, ServedTwin

__all__ = [
    "kraken_backend",
    "kraken_session",
    "kraken_twin",
    "kraken_twin_config",
    "kraken_twin_server",
]


@pytest.fixture
def kraken_twin_config() -> TwinConfig:
    """What ``kraken_twin`` is built from: seed 0, a manual clock, Kraken's rate limits."""
    return TwinConfig(clock=ManualClock())


@pytest.fixture
def kraken_twin(kraken_twin_config: TwinConfig) -> ControlledTwin:
    """A fresh twin for this test, steered through ``kraken_twin.control``."""
    return ControlledTwin(kraken_twin_config)


@pytest.fixture
def kraken_twin_server(kraken_twin: ControlledTwin) -> Iterator[ServedTwin]:
    """``kraken_twin`` served on a free loopback port for the test's length."""
    running = run_in_thread(kraken_twin, port=0)
    kraken_twin.control.serve_on(running.loop)  # controls run between the server's requests
    try:
        yield ServedTwin(running.url, kraken_twin, running)
    finally:
        running.stop()
        kraken_twin.control.serve_on(None)


@pytest.fixture
def kraken_backend() -> str:
    """The wire ``kraken_session`` uses: ``"rest"`` (override or parametrise: ``"uws"``)."""
    return "rest"


async def _session(request: pytest.FixtureRequest, twin: ControlledTwin) -> AsyncIterator[Session]:
    backend = getattr(request, "param", None) or request.getfixturevalue("kraken_backend")
    if backend == "rest":
        session = twin.session()
    elif backend == "uws":
        served: ServedTwin = request.getfixturevalue("kraken_twin_server")
        session = served.session(backend="uws")
    else:
        raise ValueError(f"kraken_session's backend is 'rest' or 'uws', not {backend!r}")
    async with session:
        yield session


async def _kraken_session(
    request: pytest.FixtureRequest, kraken_twin: ControlledTwin
) -> AsyncIterator[Session]:
    """A signed, open Session on ``kraken_twin``, over ``kraken_backend``'s wire."""
    async for session in _session(request, kraken_twin):
        yield session


def _needs_pytest_asyncio() -> Session:
    """A signed Session on ``kraken_twin`` (needs pytest-asyncio)."""
    raise pytest.UsageError("kraken_session is an async fixture: pip install pytest-asyncio")


# without pytest-asyncio the plugin still loads (the other fixtures work) and says what is
# missing when kraken_session is asked for
kraken_session: Any
if importlib.util.find_spec("pytest_asyncio") is not None:
    import pytest_asyncio

    kraken_session = pytest_asyncio.fixture(_kraken_session, name="kraken_session")
else:  # pragma: no cover
    kraken_session = pytest.fixture(_needs_pytest_asyncio, name="kraken_session")
