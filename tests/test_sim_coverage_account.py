"""Account operations the twin keeps state for, through the library (every answer checked
against Kraken's OpenAPI by conftest): preferences, transfers, subaccounts, withdrawals,
notices, the unwind queue, fee volumes, the API-key check and the market-share stats."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from kraken_futures_async import (
    AuthenticationError,
    Credentials,
    InsufficientFundsError,
    InvalidRequestError,
    NotFoundError,
    RateLimitPolicy,
    Session,
)
from kraken_futures_async.models import AccessLevel, SelfTradeStrategy
from kraken_futures_async.simulator import ManualClock, Permissions, Twin, TwinConfig
from kraken_futures_async.simulator.engine import Exchange

XBT = "PF_XBTUSD"
pytestmark = pytest.mark.filterwarnings("ignore:.*deprecated:DeprecationWarning")


@pytest.fixture
def twin() -> Twin:
    return Twin(TwinConfig(seed=8, clock=ManualClock(), rate_limits=False))


def _session(
    twin: Twin, permissions: Permissions | None = None, account: str | None = None
) -> Session:
    key = None
    if permissions is not None or account is not None:
        key = twin.issue_key(account, permissions)
    return twin.session(key, rate_limits=RateLimitPolicy.unlimited())


def _mark(twin: Twin) -> Decimal:
    exchange = twin.exchange
    assert isinstance(exchange, Exchange)
    return exchange.mark_price(XBT)


# --- preferences ------------------------------------------------------------------------


async def test_isolated_leverage_is_listed_and_sets_the_initial_margin(twin: Twin) -> None:
    async with _session(twin) as kf:
        await kf.orders.send(symbol=XBT, side="buy", size="1", order_type="mkt")
        flex = (await kf.account.accounts()).flex
        assert flex is not None
        cross = flex.initial_margin
        mark = _mark(twin)
        assert cross == pytest.approx(mark * Decimal("0.01"), rel=Decimal("1e-9"))  # tier 1 %

        await kf.settings.set_leverage_preference(XBT, 10)
        assert [(p.symbol, p.max_leverage) for p in await kf.settings.leverage_preferences()] == [
            (XBT, Decimal(10))
        ]
        isolated = (await kf.account.accounts()).flex
        assert isolated is not None
        assert isolated.initial_margin == pytest.approx(mark / 10, rel=Decimal("1e-9"))
        (position,) = await kf.account.open_positions()
        assert position.max_fixed_leverage == Decimal(10)

        await kf.settings.set_leverage_preference(XBT, None)  # back to cross margin
        assert await kf.settings.leverage_preferences() == []
        back = (await kf.account.accounts()).flex
        assert back is not None
        assert back.initial_margin == cross


async def test_leverage_refusals_change_nothing(twin: Twin) -> None:
    small = twin.open_account({"USD": Decimal(1500)})
    async with _session(twin, account=small) as kf:
        with pytest.raises(InvalidRequestError):
            await kf.settings.set_leverage_preference(XBT, 500)  # above the 1 % tier's 100x
        with pytest.raises(NotFoundError):
            await kf.settings.set_leverage_preference("PF_NOPEUSD", 5)
        with pytest.raises(InvalidRequestError):
            await kf.settings.set_leverage_preference("PI_XBTUSD", 5)  # not multi-collateral
        await kf.orders.send(symbol=XBT, side="buy", size="0.1", order_type="mkt")
        with pytest.raises(InsufficientFundsError):  # 1x on ~9,500 USD of notional
            await kf.settings.set_leverage_preference(XBT, 1)
        assert await kf.settings.leverage_preferences() == []


async def test_pnl_currency_and_self_trade_strategy_are_kept(twin: Twin) -> None:
    async with _session(twin) as kf:
        assert await kf.settings.pnl_preferences() == []
        await kf.settings.set_pnl_preference(XBT, "XBT")  # Kraken spells it BTC here
        await kf.settings.set_pnl_preference("PF_ETHUSD", "usdt")
        listed = {p.symbol: p.pnl_currency for p in await kf.settings.pnl_preferences()}
        assert listed == {XBT: "BTC", "PF_ETHUSD": "USDT"}
        with pytest.raises(NotFoundError):
            await kf.settings.set_pnl_preference(XBT, "DOGE")
        with pytest.raises(InvalidRequestError):
            await kf.settings.set_pnl_preference(XBT, "SOL")  # collateral, but not for PnL
        await kf.orders.send(symbol=XBT, side="buy", size="0.1", order_type="mkt")
        (position,) = await kf.account.open_positions()
        assert position.pnl_currency == "BTC"

        assert await kf.settings.self_trade_strategy() is SelfTradeStrategy.REJECT_TAKER
        chosen = await kf.settings.set_self_trade_strategy("CANCEL_MAKER_CHILD")
        assert chosen is SelfTradeStrategy.CANCEL_MAKER_CHILD
        assert await kf.settings.self_trade_strategy() is SelfTradeStrategy.CANCEL_MAKER_CHILD


# --- transfers ----------------------------------------------------------------------------


async def test_transfers_between_own_wallets_move_funds_and_are_logged(twin: Twin) -> None:
    async with _session(twin) as kf:
        await kf.transfers.between_wallets(
            from_account="flex", to_account="cash", unit="usd", amount="250.5"
        )
        await kf.transfers.between_wallets(
            from_account="fi_xbtusd", to_account="flex", unit="xbt", amount="0.04"
        )
        accounts = await kf.account.accounts()
        assert accounts.cash is not None
        assert accounts.flex is not None
        assert accounts.cash.balances["usd"] == Decimal("250.5")
        assert accounts.flex.currencies["USD"].quantity == Decimal("99749.5")
        assert accounts.flex.currencies["XBT"].quantity == Decimal("0.04")
        assert accounts.margin_accounts["fi_xbtusd"].balances["xbt"] == Decimal("0.06")

        log = (await kf.history.account_log(sort="asc")).logs
        rows = [
            (e.info.value, e.margin_account, e.asset, e.old_balance, e.new_balance) for e in log
        ]
        assert rows == [
            ("transfer", "flex", "usd", Decimal(100_000), Decimal("99749.5")),
            ("transfer", "cash", "usd", Decimal(0), Decimal("250.5")),
            ("transfer", "fi_xbtusd", "xbt", Decimal("0.1"), Decimal("0.06")),
            ("transfer", "flex", "xbt", Decimal(0), Decimal("0.04")),
        ]
        assert [e.id for e in log] == [1, 2, 3, 4]


async def test_transfers_are_refused_with_krakens_codes(twin: Twin) -> None:
    async with _session(twin) as kf:
        move = kf.transfers.between_wallets
        with pytest.raises(InvalidRequestError, match="invalidAccount"):
            await move(from_account="nowhere", to_account="flex", unit="usd", amount=1)
        with pytest.raises(InvalidRequestError, match="invalidAccount"):
            await move(from_account="flex", to_account="flex", unit="usd", amount=1)
        with pytest.raises(InvalidRequestError, match="invalidUnit"):
            await move(from_account="fi_xbtusd", to_account="cash", unit="eth", amount=1)
        with pytest.raises(InsufficientFundsError):
            await move(from_account="cash", to_account="flex", unit="usd", amount=1)
        # margin in use cannot leave: 1 XBT long ties up about 1 % of its notional
        await kf.orders.send(symbol=XBT, side="buy", size="1", order_type="mkt")
        flex = (await kf.account.accounts()).flex
        assert flex is not None
        free = flex.currencies["USD"].available
        assert free < flex.currencies["USD"].quantity
        with pytest.raises(InsufficientFundsError):
            await move(from_account="flex", to_account="cash", unit="usd", amount=free + 1)
        await move(from_account="flex", to_account="cash", unit="usd", amount=free)


# --- subaccounts --------------------------------------------------------------------------


async def test_a_master_has_two_subaccounts_and_moves_funds_to_and_from_them(twin: Twin) -> None:
    async with _session(twin) as kf:
        listing = await kf.subaccounts.list_all()
        assert listing.master_account_uid == twin.account_uid
        first, second = listing.subaccounts
        assert first.flex_account.balance_value == Decimal(10_000)
        assert second.flex_account.balance_value == 0
        assert {a.name for a in first.futures_accounts} >= {"f-xbt:usd", "f-eth:usd"}
        assert (await kf.subaccounts.list_all()) == listing  # the same two, every time

        await kf.transfers.with_subaccount(
            from_user=twin.account_uid,
            to_user=second.account_uid,
            from_account="flex",
            to_account="flex",
            unit="usd",
            amount=700,
        )
        await kf.transfers.with_subaccount(
            from_user=first.account_uid,
            to_user=twin.account_uid,
            from_account="flex",
            to_account="cash",
            unit="usd",
            amount=300,
        )
        after = {s.account_uid: s for s in (await kf.subaccounts.list_all()).subaccounts}
        assert after[first.account_uid].flex_account.balance_value == Decimal(9_700)
        assert after[second.account_uid].flex_account.balance_value == Decimal(700)
        accounts = await kf.account.accounts()
        assert accounts.cash is not None
        assert accounts.flex is not None
        assert accounts.cash.balances["usd"] == Decimal(300)
        assert accounts.flex.currencies["USD"].quantity == Decimal(99_300)
        infos = {e.info.value for e in (await kf.history.account_log()).logs}
        assert infos == {"subaccount transfer"}
        with pytest.raises(InvalidRequestError, match="invalidAccount"):
            await kf.transfers.with_subaccount(
                from_user=twin.account_uid,
                to_user="3b8f0c3e-0000-4000-8000-000000000000",
                from_account="flex",
                to_account="flex",
                unit="usd",
                amount=1,
            )


async def test_the_trading_switch_of_a_subaccount(twin: Twin) -> None:
    async with _session(twin) as kf:
        sub = (await kf.subaccounts.list_all()).subaccounts[1].account_uid
        assert await kf.subaccounts.trading_enabled(sub) is True
        assert await kf.subaccounts.set_trading_enabled(sub, False) is False
        assert await kf.subaccounts.trading_enabled(sub) is False
        assert await kf.subaccounts.set_trading_enabled(sub, True) is True
        with pytest.raises(NotFoundError):
            await kf.subaccounts.trading_enabled(twin.account_uid)  # a master is no subaccount


# --- withdrawals --------------------------------------------------------------------------


async def test_withdrawals_need_a_withdrawal_key_and_debit_the_wallet(twin: Twin) -> None:
    async with _session(twin) as kf:
        with pytest.raises(AuthenticationError):
            await kf.transfers.withdraw_to_spot(currency="usd", amount=1)
        await kf.transfers.between_wallets(
            from_account="flex", to_account="cash", unit="usd", amount=100
        )
    async with _session(twin, Permissions.withdrawal()) as kw:
        first = await kw.transfers.withdraw_to_spot(currency="usd", amount=40)
        second = await kw.transfers.withdraw_to_spot(
            currency="USD", amount=1000, source_wallet="flex"
        )
        assert first.uid != second.uid
        with pytest.raises(InsufficientFundsError):
            await kw.transfers.withdraw_to_spot(currency="usd", amount=61)
        accounts = await kw.account.accounts()
        assert accounts.cash is not None
        assert accounts.flex is not None
        assert accounts.cash.balances["usd"] == Decimal(60)
        assert accounts.flex.currencies["USD"].quantity == Decimal(98_900)
        latest = (await kw.history.account_log(count=2)).logs
        assert [(e.info.value, e.margin_account) for e in latest] == [
            ("cross-exchange transfer", "flex"),
            ("cross-exchange transfer", "cash"),
        ]


# --- notices, unwind queue, fees ------------------------------------------------------------


async def test_notifications_announce_the_next_maintenance(twin: Twin) -> None:
    async with _session(twin) as kf:
        maintenance, general = await kf.account.notifications()
    now = dt.datetime.fromtimestamp(twin.clock.time(), dt.UTC)
    assert maintenance.is_downtime
    assert maintenance.expected_downtime_minutes == 30
    assert now < maintenance.effective_time <= now + dt.timedelta(days=7)
    assert maintenance.effective_time.weekday() == 1  # Tuesday
    assert not general.is_downtime


async def test_the_unwind_queue_lists_open_positions(twin: Twin) -> None:
    async with _session(twin) as kf:
        assert await kf.account.unwind_queue() == []
        await kf.orders.send(symbol=XBT, side="buy", size="0.5", order_type="mkt")
        await kf.orders.send(symbol="PF_ETHUSD", side="sell", size="2", order_type="mkt")
        queue = {q.symbol: q.percentile for q in await kf.account.unwind_queue()}
    assert set(queue) == {XBT, "PF_ETHUSD"}
    # just opened at the touch: a hair under water, the second quintile
    assert set(queue.values()) <= {20, 40}


async def test_fee_volume_is_the_notional_of_the_last_30_days(twin: Twin) -> None:
    async with _session(twin) as kf:
        with pytest.warns(DeprecationWarning, match="deprecated"):
            (schedule,) = await kf.market.fee_schedules()
        with pytest.warns(DeprecationWarning, match="deprecated"):
            assert await kf.account.fee_schedule_volumes() == {schedule.uid: Decimal(0)}
        await kf.orders.send(symbol=XBT, side="buy", size="0.3", order_type="mkt")
        await kf.orders.send(symbol="PI_XBTUSD", side="sell", size="500", order_type="mkt")
        fills = await kf.orders.fills()
        with pytest.warns(DeprecationWarning, match="deprecated"):
            volumes = await kf.account.fee_schedule_volumes()
    expected = sum(f.size * (1 if f.symbol.startswith("PI_") else f.price) for f in fills)
    assert volumes == {schedule.uid: expected}
    assert [t.usd_volume for t in schedule.tiers] == sorted(t.usd_volume for t in schedule.tiers)


# --- the key check and the stats service -----------------------------------------------------


async def test_the_key_check_describes_the_key_that_signed_it(twin: Twin) -> None:
    clock = twin.clock
    assert isinstance(clock, ManualClock)
    clock.advance(90)
    reader = twin.issue_key(permissions=Permissions.read_only())
    withdrawer = twin.issue_key(permissions=Permissions.withdrawal())
    async with _session(twin) as kf:
        own = await kf.keys.check()
    assert (own.api_key, own.account_uid) == (twin.key.public_key, twin.account_uid)
    assert own.permissions.general is AccessLevel.FULL_ACCESS
    assert own.permissions.transfer is AccessLevel.NO_ACCESS
    assert own.iiban is None
    for key, general, transfer in (
        (reader, AccessLevel.READ_ONLY, AccessLevel.NO_ACCESS),
        (withdrawer, AccessLevel.FULL_ACCESS, AccessLevel.FULL_ACCESS),
    ):
        async with twin.session(key, rate_limits=RateLimitPolicy.unlimited()) as kf:
            check = await kf.keys.check()
        assert (check.api_key, check.permissions.general) == (key.public_key, general)
        assert check.permissions.transfer is transfer
        assert check.created_at.timestamp() == clock.time()  # issued after the clock moved


async def test_an_unknown_key_gets_the_auth_services_401(twin: Twin) -> None:
    stranger = Credentials("nobody", twin.key.secret)
    async with Session(
        stranger,
        base_url="http://127.0.0.1",
        transport=twin.transport(),
        rate_limits=RateLimitPolicy.unlimited(),
    ) as kf:
        with pytest.raises(AuthenticationError) as caught:
            await kf.keys.check()
    assert caught.value.http_status == 401


async def test_market_share_is_204_until_there_is_volume(twin: Twin) -> None:
    async with _session(twin) as kf:
        assert await kf.stats.self_market_share() is None
        await kf.orders.send(symbol="PI_XBTUSD", side="buy", size="100", order_type="mkt")
        assert await kf.stats.self_market_share() is None  # inverse: no rebates
        await kf.orders.send(symbol=XBT, side="buy", size="0.2", order_type="mkt")
        (fill,) = [f for f in await kf.orders.fills() if f.symbol == XBT]
        share = await kf.stats.self_market_share()
    assert share is not None
    assert set(share.contracts) == {XBT}
    figures = share.contracts[XBT]
    assert figures.volume == fill.size * fill.price
    assert 0 < figures.market_share < Decimal("0.001")
    assert figures.usd_rebate_credited == figures.volume * Decimal("0.00005")
