"""The pytest plugin as a user meets it: installed by entry point, fixtures in a fresh project.

Each test writes a throw-away test file into a pytester directory (no conftest of ours, no
``-p``) and runs pytest on it: the fixtures must come from the ``pytest11`` entry point alone.
"""

from __future__ import annotations

import textwrap
from importlib.metadata import entry_points

import pytest

from kraken_futures_async.testing import plugin

pytest_plugins = ["pytester"]

INI = """
[pytest]
asyncio_mode = auto
asyncio_default_fixture_loop_scope = function
# The throw-away project runs in this process, where the package is imported already, so
# pytest warns that it cannot rewrite the entry-point plugin's asserts (a user's run, which
# imports the package through the plugin, never sees it).
filterwarnings =
    error
    ignore::pytest.PytestAssertRewriteWarning
"""

HEADER = """
import asyncio
from decimal import Decimal

import pytest

from kraken_futures_async import Session
from kraken_futures_async.models import OrderRequestStatus

SYMBOL = "PF_XBTUSD"


async def bid_below(twin, kf: Session, fraction: str) -> str:
    mark = twin.control.mark(SYMBOL)
    price = (mark * (1 - Decimal(fraction))).quantize(Decimal(1))
    placed = await kf.orders.send(symbol=SYMBOL, side="buy", size=Decimal("0.01"),
                                  limit_price=price)
    assert placed.status is OrderRequestStatus.PLACED
    return placed.order_id
"""


def run(pytester: pytest.Pytester, body: str, *, passed: int, errors: int = 0) -> None:
    pytester.makeini(INI)
    pytester.makepyfile(test_user_bot=HEADER + body)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=passed, errors=errors)


def test_the_plugin_is_registered_by_entry_point() -> None:
    found = {ep.name: ep.value for ep in entry_points(group="pytest11")}
    assert found.get("kraken_futures_async") == "kraken_futures_async.testing.plugin"


def test_an_order_fills_when_the_market_moves_through_it(pytester: pytest.Pytester) -> None:
    run(
        pytester,
        """
async def test_bot(kraken_twin, kraken_session):
    order_id = await bid_below(kraken_twin, kraken_session, "0.02")
    assert order_id in {o.order_id for o in await kraken_session.orders.open()}
    assert not await kraken_session.orders.fills()
    mark = kraken_twin.control.mark(SYMBOL)
    moved = kraken_twin.control.move_mark(SYMBOL, mark * Decimal("0.95"))
    assert abs(moved - mark * Decimal("0.95")) < 1
    assert [f.order_id for f in await kraken_session.orders.fills()] == [order_id]
    assert not await kraken_session.orders.open()
    [position] = await kraken_session.account.open_positions()
    assert position.size == Decimal("0.01")
""",
        passed=1,
    )


def test_fill_trigger_advance_and_faults(pytester: pytest.Pytester) -> None:
    run(
        pytester,
        """
async def test_fill_takes_a_resting_order_at_its_price(kraken_twin, kraken_session):
    order_id = await bid_below(kraken_twin, kraken_session, "0.05")
    kraken_twin.control.fill(order_id)
    [fill] = await kraken_session.orders.fills()
    assert fill.order_id == order_id
    assert fill.price < kraken_twin.control.mark(SYMBOL)


async def test_trigger_fires_a_stop(kraken_twin, kraken_session):
    stop = (kraken_twin.control.mark(SYMBOL) * Decimal("0.9")).quantize(Decimal(1))
    placed = await kraken_session.orders.send(
        symbol=SYMBOL, side="sell", size=Decimal("0.01"), order_type="stp", stop_price=stop)
    assert not await kraken_session.orders.fills()
    kraken_twin.control.trigger(placed.order_id)
    assert [f.order_id for f in await kraken_session.orders.fills()] == [placed.order_id]


async def test_advance_runs_out_the_dead_mans_switch(kraken_twin, kraken_session):
    await bid_below(kraken_twin, kraken_session, "0.05")
    await kraken_session.orders.cancel_all_after(60)
    kraken_twin.control.advance(59)
    assert await kraken_session.orders.open()
    kraken_twin.control.advance(2)
    assert not await kraken_session.orders.open()


async def test_fail_next_strikes_once(kraken_twin, kraken_session):
    kraken_twin.control.fail_next("open_orders", "server_error")
    assert await kraken_session.orders.open() == []   # the client retried the read
    assert kraken_twin.control.fired("server_error", "open_orders") == 1
""",
        passed=4,
    )


def test_both_backends_and_the_served_twin(pytester: pytest.Pytester) -> None:
    run(
        pytester,
        """
@pytest.mark.parametrize("kraken_session", ["rest", "uws"], indirect=True)
async def test_on_both_wires(kraken_twin, kraken_session):
    order_id = await bid_below(kraken_twin, kraken_session, "0.02")
    kraken_twin.control.move_mark(SYMBOL, kraken_twin.control.mark(SYMBOL) * Decimal("0.95"))
    # over uws the Session's open orders follow its private stream: give the push a moment
    async with asyncio.timeout(10):
        while order_id in {o.order_id for o in await kraken_session.orders.open()}:
            await asyncio.sleep(0.01)


async def test_served_twin_for_other_programs(kraken_twin_server):
    env = kraken_twin_server.env()
    assert env["KRAKEN_FUTURES_BASE_URL"] == kraken_twin_server.url
    assert kraken_twin_server.url.startswith("http://127.0.0.1:")
    async with kraken_twin_server.session() as kf:
        assert await kf.account.accounts()
        await bid_below(kraken_twin_server.twin, kf, "0.05")
        assert len(await kf.orders.open()) == 1
""",
        passed=3,
    )


def test_a_project_overrides_the_config_and_backend(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
from decimal import Decimal

import pytest

from kraken_futures_async.simulator import ManualClock, TwinConfig


@pytest.fixture
def kraken_twin_config():
    return TwinConfig(seed=7, clock=ManualClock(), balances={"USD": Decimal(50)})


@pytest.fixture
def kraken_backend():
    return "uws"
"""
    )
    run(
        pytester,
        """
async def test_config(kraken_twin, kraken_session):
    assert kraken_twin.config.seed == 7
    assert kraken_session.backend.__class__.__name__ == "UwsBackend"



@pytest.mark.parametrize("kraken_session", ["ftp"], indirect=True)
async def test_unknown_backend_is_refused(kraken_session):
    pass
""",
        passed=1,
        errors=1,
    )


def test_the_documented_example_passes(pytester: pytest.Pytester) -> None:
    doc = plugin.__doc__
    assert doc is not None
    example = doc.split("run by the package's own tests::\n", 1)[1].split("\nOver ")[0]
    pytester.makeini(INI)
    pytester.makepyfile(test_documented=textwrap.dedent(example))
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
