"""The twin's engine, accounts: fees, PnL, margin and funding, checked against hand arithmetic.

Each test works the numbers out itself from the prices it observes (fill prices from the book,
the mark from the exchange's price function) and the documented rates: taker 0.05 %, maker
0.02 %; PF_XBTUSD initial margin 1 % / maintenance 0.5 % up to 1,000,000 USD notional, 2 % /
1 % from there to 3,000,000.
"""

from __future__ import annotations

from decimal import Decimal

from .test_sim_engine_support import ACCOUNT, OTHER, Twin

XBT = "PF_XBTUSD"
TAKER = Decimal("0.0005")
MAKER = Decimal("0.0002")
START_USD = Decimal(100_000)
EPSILON = Decimal("1E-10")


def _close(a: Decimal, b: Decimal) -> bool:
    return abs(a - b) < EPSILON


def test_buying_one_bitcoin_by_hand() -> None:
    twin = Twin(seed=5)
    price = twin.book(XBT)["asks"][0][0]
    # the other account offers 1 BTC at the best ask; users come before the makers there
    twin.send(
        account=OTHER, orderType="lmt", symbol=XBT, side="sell", size="1", limitPrice=str(price)
    )
    status = twin.send(orderType="lmt", symbol=XBT, side="buy", size="1", limitPrice=str(price))
    assert [e["amount"] for e in status["orderEvents"]] == [Decimal(1)]

    fee = price * TAKER
    usd = START_USD - fee
    mark = twin.mark(XBT)
    flex = twin.flex()
    assert flex["currencies"]["USD"]["quantity"] == usd
    assert flex["balanceValue"] == usd
    assert flex["collateralValue"] == usd
    assert flex["pnl"] == mark - price
    assert flex["initialMargin"] == mark * Decimal("0.01")
    assert flex["initialMarginWithOrders"] == mark * Decimal("0.01")
    assert flex["maintenanceMargin"] == mark * Decimal("0.005")
    assert flex["marginEquity"] == usd + (mark - price)
    assert flex["portfolioValue"] == usd + (mark - price)
    assert flex["availableMargin"] == usd + (mark - price) - mark * Decimal("0.01")
    assert flex["unrealizedFunding"] == 0

    # the maker side: a short at the same price, the maker fee
    other = twin.flex(OTHER)
    assert other["currencies"]["USD"]["quantity"] == START_USD - price * MAKER
    assert other["pnl"] == price - mark
    assert twin.fills(OTHER)[0]["fillType"] == "maker"

    # a minute later the mark has moved and the PnL and margin follow it
    twin.clock.advance(60)
    later = twin.mark(XBT)
    assert later != mark
    flex = twin.flex()
    assert flex["pnl"] == later - price
    assert flex["initialMargin"] == later * Decimal("0.01")
    assert flex["availableMargin"] == usd + (later - price) - later * Decimal("0.01")
    position = twin.positions()[XBT]
    assert (position["side"], position["size"], position["price"]) == ("long", 1, price)
    assert position["unrealizedFunding"] == 0
    assert position["pnlCurrency"] == "USD"

    # closing against the other account's bid realises the difference and pays a second fee
    exit_price = twin.book(XBT)["bids"][0][0]
    twin.send(
        account=OTHER, orderType="lmt", symbol=XBT, side="buy", size="1", limitPrice=str(exit_price)
    )
    twin.send(orderType="ioc", symbol=XBT, side="sell", size="1", limitPrice=str(exit_price))
    flex = twin.flex()
    expected = usd + (exit_price - price) - exit_price * TAKER
    assert flex["currencies"]["USD"]["quantity"] == expected
    assert flex["pnl"] == 0
    assert flex["initialMargin"] == 0
    assert flex["availableMargin"] == expected
    assert twin.positions() == {}
    other = twin.flex(OTHER)
    other_usd = START_USD - price * MAKER + (price - exit_price) - exit_price * MAKER
    assert other["currencies"]["USD"]["quantity"] == other_usd


def test_a_short_position_gains_when_the_mark_falls() -> None:
    twin = Twin(seed=6)
    price = twin.book(XBT)["bids"][0][0]
    twin.send(
        account=OTHER, orderType="lmt", symbol=XBT, side="buy", size="0.5", limitPrice=str(price)
    )
    twin.send(orderType="ioc", symbol=XBT, side="sell", size="0.5", limitPrice=str(price))
    twin.clock.advance(10)
    mark = twin.mark(XBT)
    flex = twin.flex()
    assert flex["pnl"] == Decimal("-0.5") * (mark - price)
    assert flex["initialMargin"] == Decimal("0.5") * mark * Decimal("0.01")
    assert twin.positions()[XBT]["side"] == "short"


def test_open_orders_count_in_initial_margin_with_orders_by_tier() -> None:
    twin = Twin(seed=5)
    bid = twin.book(XBT)["bids"][0][0]
    twin.send(orderType="lmt", symbol=XBT, side="buy", size="15", limitPrice=str(bid - 2000))
    mark = twin.mark(XBT)
    notional = 15 * mark
    assert Decimal(1_000_000) < notional < Decimal(3_000_000)
    expected = Decimal(1_000_000) * Decimal("0.01") + (notional - 1_000_000) * Decimal("0.02")
    flex = twin.flex()
    assert flex["initialMargin"] == 0
    assert flex["initialMarginWithOrders"] == expected
    assert flex["availableMargin"] == START_USD - expected
    assert flex["currencies"]["USD"]["available"] == START_USD - expected
    # an order on the other side does not add to the larger of the two exposures
    twin.send(orderType="lmt", symbol=XBT, side="sell", size="5", limitPrice=str(bid + 2000))
    assert twin.flex()["initialMarginWithOrders"] == expected


def test_multi_collateral_haircuts() -> None:
    twin = Twin(seed=5, XBT=Decimal("1.5"), USDT=Decimal(1000), USD=Decimal(0))
    index = twin.exchange.index_price(XBT)
    flex = twin.flex()
    xbt = flex["currencies"]["XBT"]
    assert xbt["quantity"] == Decimal("1.5")
    assert xbt["value"] == Decimal("1.5") * index
    assert xbt["collateral"] == Decimal("1.5") * index * (1 - Decimal("0.0225"))
    usdt = flex["currencies"]["USDT"]
    assert (usdt["value"], usdt["collateral"]) == (1000, 990)
    assert flex["balanceValue"] == Decimal("1.5") * index + 1000
    assert flex["collateralValue"] == xbt["collateral"] + 990
    assert flex["marginEquity"] == flex["collateralValue"]
    assert flex["availableMargin"] == flex["collateralValue"]


def test_funding_accrues_on_the_hour() -> None:
    twin = Twin(seed=5)
    price = twin.book(XBT)["asks"][0][0]
    twin.send(
        account=OTHER, orderType="lmt", symbol=XBT, side="sell", size="2", limitPrice=str(price)
    )
    twin.send(orderType="lmt", symbol=XBT, side="buy", size="2", limitPrice=str(price))
    twin.clock.advance(1800)
    assert twin.positions()[XBT]["unrealizedFunding"] == 0
    twin.clock.advance(1800)  # exactly 01:00:00, the first funding hour
    rate = twin.call("ticker", symbol=XBT)["ticker"]["fundingRate"]  # per contract this hour
    assert rate != 0
    assert twin.positions()[XBT]["unrealizedFunding"] == -2 * rate
    assert twin.positions(OTHER)[XBT]["unrealizedFunding"] == 2 * rate
    flex = twin.flex()
    assert flex["unrealizedFunding"] == -2 * rate
    assert flex["totalUnrealized"] == flex["pnl"] - 2 * rate
    # trading the position realises the funding into the USD balance
    before = flex["currencies"]["USD"]["quantity"]
    exit_price = twin.book(XBT)["bids"][0][0]
    twin.send(
        account=OTHER, orderType="lmt", symbol=XBT, side="buy", size="2", limitPrice=str(exit_price)
    )
    twin.send(orderType="ioc", symbol=XBT, side="sell", size="2", limitPrice=str(exit_price))
    after = twin.flex()["currencies"]["USD"]["quantity"]
    expected = before - 2 * rate + 2 * (exit_price - price) - 2 * exit_price * TAKER
    assert _close(after, expected)


def test_an_inverse_contract_settles_in_coin() -> None:
    twin = Twin(seed=5, USD=START_USD, fi_xbtusd=Decimal(1))
    symbol = "PI_XBTUSD"
    ask, ask_size = twin.book(symbol)["asks"][0]
    assert ask_size >= 1000
    twin.send(orderType="mkt", symbol=symbol, side="buy", size="1000")
    mark = twin.mark(symbol)
    account = twin.checked("accounts", ACCOUNT)["accounts"]["fi_xbtusd"]
    fee = Decimal(1000) / ask * TAKER
    balance = 1 - fee
    pnl = 1000 * (1 / ask - 1 / mark)
    initial = 1000 * Decimal("0.02") / mark
    assert _close(Decimal(account["balances"]["xbt"]), balance)
    assert account["balances"][symbol] == "1000"
    assert _close(account["auxiliary"]["pnl"], pnl)
    assert _close(account["auxiliary"]["pv"], balance + pnl)
    assert _close(account["marginRequirements"]["im"], initial)
    assert _close(account["auxiliary"]["af"], balance + pnl - initial)
    position = twin.positions()[symbol]
    assert position["size"] == 1000
    assert position["price"] == ask
    assert "pnlCurrency" not in position
    # the flex wallet is untouched
    assert twin.flex()["currencies"]["USD"]["quantity"] == START_USD


def test_fills_page_back_by_time() -> None:
    twin = Twin(seed=5)
    for _ in range(120):
        twin.send(orderType="mkt", symbol="PF_ETHUSD", side="buy", size="0.01")
        twin.clock.advance(0.01)
    first = twin.fills()
    assert len(first) == 100
    times = [f["fillTime"] for f in first]
    assert times == sorted(times, reverse=True)
    older = twin.checked("fills", ACCOUNT, lastFillTime=first[-1]["fillTime"])["fills"]
    assert older
    assert all(f["fillTime"] < first[-1]["fillTime"] for f in older)
    assert len(first) + len(older) >= 120


def test_open_positions_newest_first() -> None:
    twin = Twin(seed=5)
    twin.send(orderType="mkt", symbol=XBT, side="buy", size="0.01")
    twin.clock.advance(1)
    twin.send(orderType="mkt", symbol="PF_ETHUSD", side="sell", size="0.1")
    rows = twin.checked("open_positions", ACCOUNT)["openPositions"]
    assert [(r["symbol"], r["side"]) for r in rows] == [("PF_ETHUSD", "short"), (XBT, "long")]


def test_cash_balances_are_decimal_strings() -> None:
    accounts = Twin(seed=5).checked("accounts", ACCOUNT)["accounts"]
    assert accounts["cash"]["type"] == "cashAccount"
    assert all(isinstance(v, str) for v in accounts["cash"]["balances"].values())
    assert accounts["flex"]["type"] == "multiCollateralMarginAccount"
    assert {"fi_xbtusd", "fi_ethusd"} <= set(accounts)


def test_coin_margined_accounts_hold_a_default_unless_named() -> None:
    twin = Twin(seed=5, USD=Decimal(5000), fi_ethusd=Decimal(0))
    accounts = twin.checked("accounts", ACCOUNT)["accounts"]
    assert accounts["fi_xbtusd"]["balances"]["xbt"] == "0.1"
    assert accounts["fi_ethusd"]["balances"]["eth"] == "0"
    assert accounts["flex"]["currencies"]["USD"]["quantity"] == 5000
    refused = twin.send(orderType="mkt", symbol="PI_ETHUSD", side="buy", size="100")
    assert refused["status"] == "insufficientAvailableFunds"
