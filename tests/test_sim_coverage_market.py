"""Market-side operations of the twin through the library (answers checked against the
OpenAPI by conftest): instrument status, funding history, public history listings, chart
lists and analytics, portfolio margining, the assignment program and RFQs."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal
from typing import get_args

import httpx
import pytest

from kraken_futures_async import (
    InvalidArgumentError,
    InvalidRequestError,
    KrakenFuturesError,
    NotFoundError,
    RateLimitPolicy,
    Session,
)
from kraken_futures_async.models import AssignmentTimeFrame, SimulatedPosition
from kraken_futures_async.models.history import OrderCancelled, OrderPlaced
from kraken_futures_async.resources.charts import AnalyticsType
from kraken_futures_async.simulator import ManualClock, Twin, TwinConfig
from kraken_futures_async.simulator.engine import Exchange, market_history

XBT = "PF_XBTUSD"
HOUR = 3600


@pytest.fixture
def twin() -> Twin:
    return Twin(TwinConfig(seed=4, clock=ManualClock(), rate_limits=False))


def _session(twin: Twin) -> Session:
    return twin.session(rate_limits=RateLimitPolicy.unlimited())


def _exchange(twin: Twin) -> Exchange:
    assert isinstance(twin.exchange, Exchange)
    return twin.exchange


def _ago(twin: Twin, seconds: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(twin.clock.time() - seconds, dt.UTC)


# --- status and funding ---------------------------------------------------------------------


async def test_instrument_status_lists_every_listed_contract(twin: Twin) -> None:
    async with _session(twin) as kf:
        statuses = await kf.market.instruments_status()
        instruments = await kf.market.instruments()
        one = await kf.market.instrument_status("pf_xbtusd")
        with pytest.raises(InvalidRequestError):
            await kf.market.instrument_status("PF_NOPEUSD")
    assert {s.tradeable for s in statuses} == {i.symbol for i in instruments if i.tradeable}
    assert one.tradeable == XBT
    for status in statuses:
        assert status.experiencing_extreme_volatility is False
        assert status.extreme_volatility_initial_margin_multiplier == 1
        assert (status.price_dislocation_direction is None) == (not status.experiencing_dislocation)


async def test_funding_history_is_hourly_and_matches_the_mark(twin: Twin) -> None:
    async with _session(twin) as kf:
        rates = await kf.market.funding_rates(XBT)
        with pytest.raises(InvalidRequestError):
            await kf.market.funding_rates("PI_XBTUSD_NOPE")
    assert len(rates) == 30 * 24
    times = [r.timestamp for r in rates]
    assert times == sorted(times)
    assert all(b - a == dt.timedelta(hours=1) for a, b in itertools.pairwise(times))
    assert times[-1].timestamp() == twin.clock.time() // HOUR * HOUR
    last = rates[-1]
    mark = _exchange(twin).mark_price(XBT, times[-1].timestamp())
    assert last.funding_rate == pytest.approx(last.relative_funding_rate * mark)


async def test_funding_also_answers_on_the_v4_path_and_refuses_dated_contracts(twin: Twin) -> None:
    async with httpx.AsyncClient(transport=twin.transport(), base_url="http://127.0.0.1") as raw:
        v3 = await raw.get("/derivatives/api/v3/historical-funding-rates", params={"symbol": XBT})
        v4 = await raw.get("/derivatives/api/v4/historicalfundingrates", params={"symbol": XBT})
        dated = next(s for s in _exchange(twin)._venue.specs if s.startswith("FF_"))
        refused = await raw.get(
            "/derivatives/api/v4/historicalfundingrates", params={"symbol": dated}
        )
    assert v3.json()["rates"] == v4.json()["rates"]
    assert (refused.status_code, refused.json()["error"]) == (400, "invalidArgument")


# --- public history -------------------------------------------------------------------------


async def test_public_listings_show_users_orders_reduced_and_merge_the_makers_trades(
    twin: Twin,
) -> None:
    async with _session(twin) as kf:
        book = await kf.market.orderbook(XBT)
        assert book.best_bid is not None
        placed = await kf.orders.send(
            symbol=XBT, side="buy", size="0.2", limit_price=book.best_bid.price - 50
        )
        taken = await kf.orders.send(symbol=XBT, side="sell", size="0.1", order_type="mkt")
        # newest first: the users' orders, then the makers' back through time
        orders = (await kf.history.market_orders(XBT, count=100)).elements
        trades = (await kf.history.market_executions(XBT, count=50)).elements
    mine = [
        e.event
        for e in orders
        if isinstance(e.event, OrderPlaced) and e.event.order.uid == placed.order_id
    ]
    assert len(mine) == 1
    shown = [e.event.order for e in orders if isinstance(e.event, OrderPlaced | OrderCancelled)]
    assert shown
    assert all(o.account_uid is None and o.client_id is None for o in shown)  # reduced form
    ours = [t for t in trades if t.execution.taker_order.uid == taken.order_id]
    assert ours
    assert ours[0].execution.maker_order_data is None  # public: no account data
    assert len(trades) == 50  # the makers trade too, back through time
    stamps = [t.timestamp for t in trades]
    assert stamps == sorted(stamps, reverse=True)


async def test_mark_prices_page_second_by_second(twin: Twin) -> None:
    since, before = _ago(twin, 600), _ago(twin, 540)
    async with _session(twin) as kf:
        walked = [
            p async for p in kf.history.iter_market_prices(XBT, since=since, before=before, count=7)
        ]
        asc = [
            p
            async for p in kf.history.iter_market_prices(
                XBT, since=since, before=before, sort="asc", count=25
            )
        ]
    assert len(walked) == 60
    assert [p.timestamp for p in asc] == [p.timestamp for p in reversed(walked)]
    exchange = _exchange(twin)
    for price in walked[::10]:
        assert price.price == exchange.mark_price(XBT, price.timestamp.timestamp())


async def test_computed_listings_page_across_scan_windows(
    twin: Twin, monkeypatch: pytest.MonkeyPatch
) -> None:
    since, before = _ago(twin, 240), _ago(twin, -1)  # ``before`` is exclusive
    async with _session(twin) as kf:
        await kf.orders.send(symbol=XBT, side="buy", size="0.1", order_type="mkt")
        whole = await kf.history.market_executions(XBT, since=since, count=1000)
        assert whole.continuation_token is None
        monkeypatch.setattr(market_history, "SCAN", 30)  # a page looks at 30 s at most
        first = await kf.history.market_executions(XBT, since=since, count=1000)
        desc = [e.uid async for e in kf.history.iter_market_executions(XBT, since=since)]
        asc = [
            e.uid
            async for e in kf.history.iter_market_executions(
                XBT, since=since, before=before, sort="asc"
            )
        ]
    assert first.continuation_token is not None
    assert len(first.elements) < len(whole.elements)
    assert desc == [e.uid for e in whole.elements]
    assert asc == desc[::-1]


# --- charts ---------------------------------------------------------------------------------


async def test_chart_lists(twin: Twin) -> None:
    async with _session(twin) as kf:
        assert set(await kf.charts.tick_types()) == {"trade", "mark", "spot"}
        symbols = await kf.charts.symbols("trade")
        instruments = await kf.market.instruments()
        assert set(symbols) == {i.symbol for i in instruments}
        assert await kf.charts.resolutions(XBT, "spot") == [
            "1m",
            "5m",
            "15m",
            "30m",
            "1h",
            "4h",
            "12h",
            "1d",
            "1w",
        ]
        with pytest.raises(KrakenFuturesError):
            await kf.charts.resolutions("PF_NOPEUSD")


@pytest.mark.parametrize("kind", get_args(AnalyticsType))
async def test_every_analytics_type_answers_one_value_per_bucket(twin: Twin, kind: str) -> None:
    async with _session(twin) as kf:
        answer = await kf.charts.analytics(XBT, kind, since=_ago(twin, 5 * HOUR), interval=HOUR)  # type: ignore[arg-type]
    series = answer.result
    assert len(series.timestamp) == 6  # five whole hours back and the current one
    assert series.more is False
    assert answer.errors == ()
    data = series.data
    columns = list(_columns(data))
    assert columns
    assert all(len(column) == 6 for column in columns)


def _columns(data: object) -> list[tuple[object, ...]]:
    if isinstance(data, tuple):
        return [data]
    assert isinstance(data, dict)
    found: list[tuple[object, ...]] = []
    for value in data.values():
        found.extend(_columns(value))
    return found


async def test_analytics_from_the_engine_see_the_users_trades(twin: Twin) -> None:
    since = _ago(twin, 0)
    async with _session(twin) as kf:
        before = await kf.charts.analytics(XBT, "trade-count", since=since, interval=60)
        await kf.orders.send(symbol=XBT, side="buy", size="0.5", order_type="mkt")
        after = await kf.charts.analytics(XBT, "trade-count", since=since, interval=60)
        interest = await kf.charts.analytics(XBT, "open-interest", since=since, interval=60)
        fills = await kf.orders.fills()
        pool = await kf.charts.liquidity_pool(since=_ago(twin, 3 * HOUR), interval=HOUR)
    assert after.result.data[-1] - before.result.data[-1] == len(fills)
    assert interest.result.data[-1] >= Decimal("0.5")
    assert len(pool.result.data["usdValue"]) == 4


async def test_analytics_refusals_are_the_services_json(twin: Twin) -> None:
    async with httpx.AsyncClient(transport=twin.transport(), base_url="http://127.0.0.1") as raw:
        bad = await raw.get(
            f"/api/charts/v1/analytics/{XBT}/cvd", params={"since": 1, "interval": 7}
        )
        missing = await raw.get(
            "/api/charts/v1/analytics/PF_NOPEUSD/cvd", params={"since": 1, "interval": 60}
        )
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["field"] == "interval"
    assert missing.status_code == 404
    assert missing.json()["result"]["data"] == []


async def test_many_buckets_are_cut_and_flagged(twin: Twin) -> None:
    async with _session(twin) as kf:
        answer = await kf.charts.analytics(
            XBT, "future-basis", since=_ago(twin, 2 * 86_400), interval=60
        )
    assert len(answer.result.timestamp) == 1000
    assert answer.result.more is True


# --- portfolio margining --------------------------------------------------------------------


async def test_a_simulated_portfolio_is_margined_with_the_engines_rules(twin: Twin) -> None:
    mark = _exchange(twin).mark_price(XBT)
    async with _session(twin) as kf:
        parameters = await kf.portfolio.margining_parameters()
        long = SimulatedPosition(instrument=XBT, size=Decimal(2), entry_price=mark - 1000)
        hedge = SimulatedPosition(instrument="PF_ETHUSD", size=Decimal(-10), entry_price=Decimal(1))
        result = await kf.portfolio.simulate([long, hedge])
        with pytest.raises(InvalidRequestError):
            await kf.portfolio.simulate(
                [
                    SimulatedPosition(
                        instrument="PF_NOPEUSD", size=Decimal(1), entry_price=Decimal(1)
                    )
                ]
            )
    eth = _exchange(twin).mark_price("PF_ETHUSD")
    assert result.pnl == pytest.approx(2 * 1000 + (-10) * (eth - 1))
    assert result.initial_margin == pytest.approx(
        2 * mark * Decimal("0.01") + 10 * eth * Decimal("0.01")
    )
    breakdown = result.portfolio_margin_breakdown
    assert breakdown.total_scenario_pnls is not None
    assert len(breakdown.total_scenario_pnls) == len(parameters.price_shock_levels)
    assert breakdown.net_portfolio_delta == pytest.approx(2 * mark - 10 * eth)
    assert breakdown.futures_maintenance_margin == result.maintenance_margin
    assert result.greeks[XBT].delta == 2
    assert result.greeks[XBT].gamma is None


# --- the assignment program -----------------------------------------------------------------


async def test_assignment_preferences_are_added_listed_deleted_and_remembered(twin: Twin) -> None:
    async with _session(twin) as kf:
        first = await kf.assignment.add(
            contract_type="flexible_futures",
            contract=XBT,
            accept_long=True,
            accept_short=False,
            time_frame="weekdays",
            max_size=5,
        )
        second = await kf.assignment.add(
            contract_type="futures_inverse", accept_long=True, accept_short=True, time_frame="all"
        )
        assert [p.id for p in await kf.assignment.current()] == [first.id, second.id]
        removed = await kf.assignment.delete(first.id)
        assert removed.participant == first.participant
        assert [p.id for p in await kf.assignment.current()] == [second.id]
        with pytest.raises(NotFoundError):
            await kf.assignment.delete(first.id)
        with pytest.raises(InvalidRequestError):
            await kf.assignment.add(
                contract_type="options", accept_long=True, accept_short=True, time_frame="all"
            )
        history = await kf.assignment.history()
    assert first.participant.time_frame is AssignmentTimeFrame.WEEKDAYS
    assert first.participant.max_size == 5
    assert [entry.deleted for entry in history] == [False, False, True]


# --- RFQs -----------------------------------------------------------------------------------


async def test_rfqs_roll_hourly_and_offers_are_placed_replaced_and_cancelled(twin: Twin) -> None:
    clock = twin.clock
    assert isinstance(clock, ManualClock)
    async with _session(twin) as kf:
        rfqs = await kf.rfq.open_rfqs()
        assert len(rfqs) == 3
        rfq = rfqs[1]
        assert len(rfq.legs) == 2  # a calendar spread
        assert rfq.mark_price == rfq.legs[0].mark_price - rfq.legs[1].mark_price
        placed = await kf.rfq.place_offer(rfq.rfq_uid, bid=10, ask=12)
        with pytest.raises(InvalidRequestError):
            await kf.rfq.place_offer(rfq.rfq_uid, bid=11)  # one offer per RFQ
        clock.advance(5)
        await kf.rfq.replace_offer(rfq.rfq_uid, ask="11.5")
        (offer,) = await kf.rfq.open_offers()
        assert (offer.uid, offer.rfq_uid, offer.bid, offer.ask) == (
            placed.offer_uid,
            rfq.rfq_uid,
            None,
            Decimal("11.5"),
        )
        assert offer.last_update_date - offer.placement_date == dt.timedelta(seconds=5)
        with pytest.raises(InvalidArgumentError):
            await kf.rfq.place_offer(rfqs[0].rfq_uid)  # refused before sending: no price
        await kf.rfq.cancel_offer(rfq.rfq_uid)
        assert await kf.rfq.open_offers() == []
        with pytest.raises(NotFoundError):
            await kf.rfq.cancel_offer(rfq.rfq_uid)
        await kf.rfq.place_offer(rfqs[0].rfq_uid, bid=1)
        clock.set(rfqs[0].expiry.timestamp())
        assert await kf.rfq.open_offers() == []  # expired with its RFQ
        renewed = await kf.rfq.open_rfqs()
        with pytest.raises(NotFoundError):
            await kf.rfq.get(rfqs[0].rfq_uid)
    assert {r.rfq_uid for r in renewed}.isdisjoint(r.rfq_uid for r in rfqs)
