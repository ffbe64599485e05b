"""``account.accounts`` over UWS: the twin's ``margin`` channel (kraken-uws-api.md §5.5) through
a bare client, and the mapping of ``balances`` + ``margin`` to REST's ``Accounts``
(:mod:`kraken_futures_async.uws.account_state`) on hand-made pushes."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from typing import Any

import aiohttp
import pytest

from kraken_futures_async.simulator import RunningTwin, run_in_thread
from kraken_futures_async.simulator.uws import private_url
from kraken_futures_async.simulator.uws.margin_channel import MARGIN_SNAPSHOT_REFUSAL
from kraken_futures_async.uws.account_state import MarginState, WalletsState, accounts_from
from tests.served_twins import uws_twin
from tests.test_sim_uws_private import WAIT, Client, fetch_token

SYMBOL = "PF_XBTUSD"


@pytest.fixture
def running() -> Iterator[RunningTwin]:
    with run_in_thread(uws_twin(), port=0) as served:
        yield served


@pytest.fixture
async def bare(running: RunningTwin) -> AsyncIterator[Client]:
    async with aiohttp.ClientSession() as http:
        token = await fetch_token(http, running)
        async with http.ws_connect(private_url(running.url)) as ws:
            first = json.loads((await ws.receive(timeout=WAIT)).data)
            assert first["channel"] == "status"
            yield Client(ws, token)


def _section(kind: str) -> Any:
    return lambda f: f.get("channel") == "margin" and f.get("type") == kind


async def test_the_twins_margin_channel(running: RunningTwin, bare: Client) -> None:
    refused = await bare.call(
        "subscribe", channel="margin", asset_class="derivatives", snapshot=True
    )
    assert refused["success"] is False
    assert refused["error"] == MARGIN_SNAPSHOT_REFUSAL
    ack = await bare.call("subscribe", channel="margin", asset_class="derivatives")
    assert ack["success"] is True
    multi = (await bare.wait_for(_section("multi_collateral")))["data"]
    single = (await bare.wait_for(_section("single_collateral")))["data"]
    rest = running.twin.exchange.handle("accounts", {}, running.twin.account_uid)["accounts"]
    assert multi["balance_value"] == Decimal(str(rest["flex"]["balanceValue"]))
    assert multi["currencies"]["USD"]["quantity"] == Decimal(
        str(rest["flex"]["currencies"]["USD"]["quantity"])
    )
    assert multi["initial_margin"] == 0
    wallets = {w["id"]: w for w in single["wallets"]}
    assert wallets["fi_xbtusd"]["unit"] == "XBT"
    assert wallets["fi_xbtusd"]["balance"] == Decimal(str(rest["fi_xbtusd"]["balances"]["xbt"]))
    again = await bare.call("subscribe", channel="margin", asset_class="derivatives")
    assert again["error"] == "Already subscribed to margin channel"
    # a fill changes the flex figures: both sections come again, whole
    book = running.twin.exchange.handle("orderbook", {"symbol": [SYMBOL]}, None)["orderBook"]
    ask = Decimal(str(book["asks"][0][0]))
    placed = await bare.call(
        "add_order",
        asset_class="derivatives",
        symbol=SYMBOL,
        side="buy",
        order_type="limit",
        time_in_force="ioc",
        order_qty=Decimal("0.001"),
        limit_price=(ask * Decimal("1.01")).quantize(Decimal(1)),
    )
    assert placed["success"] is True
    # the sections the fill changed come before its ack, as its executions do
    fresh = await bare.wait_for(_section("multi_collateral"))
    assert bare.frames.index(fresh) < bare.frames.index(placed)
    after = fresh["data"]
    assert after["initial_margin"] > 0
    assert after["balance_value"] < multi["balance_value"]
    assert (await bare.wait_for(_section("single_collateral")))["data"]["wallets"]


_MULTI = {
    "balance_value": 1000,
    "portfolio_value": 990,
    "collateral_value": 1000,
    "initial_margin": 30,
    "initial_margin_without_orders": 20,
    "maintenance_margin": 10,
    "pnl": -10,
    "unrealized_funding": 0,
    "total_unrealized": -10,
    "margin_equity": 990,
    "available_margin": 960,
    "currencies": {
        "usd": {"quantity": 1000, "value": 1000, "collateral_value": 1000, "available": 960}
    },
}
_SINGLE = {
    "wallets": [
        {
            "id": "fi_xbtusd",
            "unit": "XBT",
            "balance": Decimal("0.1"),
            "portfolio_value": Decimal("0.1"),
            "pnl": 0,
            "unrealized_funding": 0,
            "available": Decimal("0.09"),
            "initial_margin": Decimal("0.01"),
            "maintenance_margin": Decimal("0.005"),
        }
    ]
}


def _snapshot(wallets: WalletsState) -> None:
    wallets.deliver(
        "snapshot",
        [
            {
                "asset": "USD",
                "balance": 1000,
                "wallets": [
                    {"type": "flex", "id": "flex", "balance": 1000},
                    {"type": "spot", "id": "main", "balance": 0},
                ],
            },
            {"asset": "XBT", "balance": 0.1, "wallets": [{"type": "margin", "id": "fi_xbtusd"}]},
        ],
    )


def test_balances_and_margin_become_rests_accounts() -> None:
    wallets, margin = WalletsState(), MarginState()
    _snapshot(wallets)
    assert wallets.live
    assert wallets.balances == {"usd": Decimal(1000)}  # the wallet without a balance is skipped
    margin.deliver("multi_collateral", _MULTI)
    assert not margin.live  # both sections first
    margin.deliver("single_collateral", _SINGLE)
    assert margin.live
    # a fee leaves the flex wallet: the update names its wallet and carries its new balance
    wallets.deliver(
        "update",
        [{"asset": "USD", "wallet_type": "flex", "wallet_id": "flex", "balance": "999.5"}],
    )
    accounts = accounts_from(wallets, margin)
    assert accounts.cash is not None
    assert accounts.cash.balances == {"usd": Decimal(0)}
    flex = accounts.flex
    assert flex is not None
    assert flex.currencies["USD"].quantity == Decimal("999.5")  # balances is the fresher
    assert flex.currencies["USD"].collateral == Decimal(1000)
    assert (flex.initial_margin, flex.initial_margin_with_orders) == (Decimal(20), Decimal(30))
    assert flex.total_unrealized_as_margin == Decimal(-10)  # falls back to total_unrealized
    assert flex.available_margin == Decimal(960)
    (name, xbt), *others = accounts.margin_accounts.items()
    assert (name, others) == ("fi_xbtusd", [])
    assert (xbt.currency, xbt.balances) == ("xbt", {"xbt": Decimal("0.1")})
    assert (xbt.auxiliary.pv, xbt.auxiliary.af) == (Decimal("0.1"), Decimal("0.09"))
    assert (xbt.margin_requirements.im, xbt.margin_requirements.mm) == (
        Decimal("0.01"),
        Decimal("0.005"),
    )
    assert xbt.margin_requirements.lt == xbt.trigger_estimates.tt == 0  # no UWS counterpart


def test_without_margin_only_the_wallets_show_and_a_lost_link_forgets_margin() -> None:
    wallets, margin = WalletsState(), MarginState()
    _snapshot(wallets)
    wallets.deliver("update", [{"asset": "EUR", "balance": 5}])  # no wallet named: spot
    accounts = accounts_from(wallets, margin)
    assert accounts.flex is None
    assert accounts.margin_accounts == {}
    assert accounts.cash is not None
    assert accounts.cash.balances == {"usd": Decimal(0), "eur": Decimal(5)}
    margin.deliver("multi_collateral", _MULTI)
    margin.deliver("single_collateral", _SINGLE)
    margin.link_lost()
    assert not margin.live
    assert accounts_from(wallets, margin).flex is None
