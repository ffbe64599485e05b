"""All 64 operations of Kraken's Futures OpenAPI, through the library, against the twin.

One session walks every typed resource method once; the OpenAPI checker conftest installs
sees every answer, and the tour ends by asking it which operations answered and which of those
were validated against their schema: all of them (the CSV account log has no schema).
The detailed behaviour of each area is in the other ``test_sim_coverage_*`` modules.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from kraken_futures_async import RateLimitPolicy, Session
from kraken_futures_async.models import SimulatedPosition
from kraken_futures_async.resources.orders import BatchOrder
from kraken_futures_async.rest.endpoints import ENDPOINTS
from kraken_futures_async.simulator import ManualClock, Permissions, Twin, TwinConfig
from kraken_futures_async.simulator.engine import Exchange

from .openapi_spec import operations
from .twin_checks import ResponseChecker

XBT = "PF_XBTUSD"


def _twin() -> Twin:
    return Twin(TwinConfig(seed=17, clock=ManualClock(), rate_limits=False))


def _session(twin: Twin, permissions: Permissions | None = None) -> Session:
    key = None if permissions is None else twin.issue_key(permissions=permissions)
    return twin.session(key, rate_limits=RateLimitPolicy.unlimited())


def test_the_engine_serves_every_row_but_the_key_check_which_the_http_layer_answers() -> None:
    exchange = _twin().exchange
    assert isinstance(exchange, Exchange)
    names = {row.name for row in ENDPOINTS}
    assert len(names) == 64
    assert exchange.operations == names - {"check_api_key"}


async def _market_and_charts(kf: Session, since: dt.datetime) -> None:
    assert await kf.market.tickers()
    assert (await kf.market.ticker(XBT)).symbol == XBT
    assert (await kf.market.orderbook(XBT)).bids
    assert await kf.market.trades(XBT)
    assert await kf.market.instruments()
    assert (await kf.market.candles(XBT, "1h", since)).candles
    assert await kf.market.instruments_status()
    assert (await kf.market.instrument_status(XBT)).tradeable == XBT
    assert await kf.market.funding_rates(XBT)
    with pytest.warns(DeprecationWarning, match="deprecated"):
        assert await kf.market.fee_schedules()
    assert await kf.charts.tick_types() == ["spot", "mark", "trade"]
    assert XBT in await kf.charts.symbols("mark")
    assert "1h" in await kf.charts.resolutions(XBT)
    assert (await kf.charts.analytics(XBT, "open-interest", since=since, interval=3600)).result
    assert (await kf.charts.liquidity_pool(since=since, interval=3600)).result


async def _trading(kf: Session) -> None:
    book = await kf.market.orderbook(XBT)
    assert book.best_bid is not None
    resting = await kf.orders.send(
        symbol=XBT, side="buy", size="0.2", limit_price=book.best_bid.price - 500
    )
    assert resting.order_id is not None
    await kf.orders.edit(order_id=resting.order_id, size="0.3")
    assert await kf.orders.status(order_ids=[resting.order_id])
    await kf.orders.cancel(order_id=resting.order_id)
    await kf.orders.send(symbol=XBT, side="buy", size="0.1", order_type="mkt")
    batch = BatchOrder().send(
        symbol=XBT, side="sell", size="0.1", limit_price=book.best_bid.price + 9000
    )
    await kf.orders.batch(batch)
    await kf.orders.cancel_all()
    await kf.orders.cancel_all_after(60)
    assert await kf.orders.open() == []
    assert await kf.orders.fills()
    assert (await kf.account.accounts()).flex is not None
    assert await kf.account.open_positions()
    assert await kf.account.notifications()
    assert await kf.account.unwind_queue()
    with pytest.warns(DeprecationWarning, match="deprecated"):
        assert await kf.account.fee_schedule_volumes()


async def _settings_and_funds(kf: Session, twin: Twin) -> None:
    await kf.settings.set_leverage_preference(XBT, 20)
    assert await kf.settings.leverage_preferences()
    await kf.settings.set_pnl_preference(XBT, "USDT")
    assert await kf.settings.pnl_preferences()
    await kf.settings.set_self_trade_strategy("CANCEL_MAKER_ANY")
    assert (await kf.settings.self_trade_strategy()).value == "CANCEL_MAKER_ANY"
    await kf.transfers.between_wallets(from_account="flex", to_account="cash", unit="usd", amount=5)
    subs = await kf.subaccounts.list_all()
    sub = subs.subaccounts[0].account_uid
    await kf.transfers.with_subaccount(
        from_user=twin.account_uid,
        to_user=sub,
        from_account="flex",
        to_account="flex",
        unit="usd",
        amount=5,
    )
    assert await kf.subaccounts.trading_enabled(sub) is True
    assert await kf.subaccounts.set_trading_enabled(sub, False) is False
    added = await kf.assignment.add(
        contract_type="flexible_futures", accept_long=True, accept_short=True, time_frame="all"
    )
    assert await kf.assignment.current()
    await kf.assignment.delete(added.id)
    assert len(await kf.assignment.history()) == 2
    assert (await kf.portfolio.margining_parameters()).price_shock_levels
    position = SimulatedPosition(instrument=XBT, size=Decimal(1), entry_price=Decimal(90_000))
    assert (await kf.portfolio.simulate([position])).initial_margin > 0
    rfqs = await kf.rfq.open_rfqs()
    assert (await kf.rfq.get(rfqs[0].rfq_uid)).rfq_uid == rfqs[0].rfq_uid
    await kf.rfq.place_offer(rfqs[0].rfq_uid, bid=1)
    await kf.rfq.replace_offer(rfqs[0].rfq_uid, bid=2)
    assert await kf.rfq.open_offers()
    await kf.rfq.cancel_offer(rfqs[0].rfq_uid)


async def _history(kf: Session) -> None:
    assert (await kf.history.executions()).elements
    assert (await kf.history.orders()).elements
    assert (await kf.history.triggers()).length == 0
    assert (await kf.history.positions()).elements
    assert (await kf.history.account_log()).logs
    assert (await kf.history.account_log_csv()).startswith("id,")
    assert (await kf.history.market_executions(XBT, count=3)).elements
    assert (await kf.history.market_orders(XBT)).elements
    assert (await kf.history.market_prices(XBT, count=3)).elements
    assert (await kf.keys.check()).account_uid
    assert await kf.stats.self_market_share() is not None


async def test_every_operation_answers_through_the_library_within_its_schema(
    twin_schema_check: ResponseChecker,
) -> None:
    twin = _twin()
    since = dt.datetime.fromtimestamp(twin.clock.time() - 3 * 3600, dt.UTC)
    async with _session(twin) as kf:
        await _market_and_charts(kf, since)
        await _trading(kf)
        await _settings_and_funds(kf, twin)
        await _history(kf)
    async with _session(twin, Permissions.withdrawal()) as withdrawer:
        assert (await withdrawer.transfers.withdraw_to_spot(currency="usd", amount=1)).uid
    every = {op.operation_id for op in operations()}
    assert len(every) == 64
    assert set(twin_schema_check.answered) == every
    assert set(twin_schema_check.validated) == every - {"accountLogCsv"}
