"""Resources over an in-memory backend: typed results, local argument checks, unsupported
operations refused before sending, observers told, and no REST code anywhere on the way."""

from __future__ import annotations

import ast
import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from kraken_futures_async import (
    InvalidArgumentError,
    NotFoundError,
    OrderRejectedError,
    Session,
    UnsupportedOperationError,
)
from kraken_futures_async.models import (
    Accounts,
    OpenOrder,
    OpenPosition,
    OrderRequestStatus,
    PositionSide,
    SendOrderResult,
    Side,
    Ticker,
)
from kraken_futures_async.operations import NO_ARGUMENTS, SendOrder
from kraken_futures_async.operations import catalog as ops

from .fake_backend import START, FakeBackend
from .virtual_clock import run_virtual

HERE = Path(__file__).parent


def test_market_and_account_calls_return_the_fakes_typed_results() -> None:
    fake = FakeBackend()
    fake.exchange.marks["PF_XBTUSD"] = Decimal(51_000)

    async def scenario() -> tuple[Any, ...]:
        async with Session(backend=fake) as kf:
            return (
                await kf.market.tickers(),
                await kf.market.ticker("PF_XBTUSD"),
                await kf.market.instruments(),
                await kf.account.accounts(),
                await kf.account.open_positions(),
                kf.server_now(),
            )

    (tickers, ticker, instruments, accounts, positions, now), _ = run_virtual(scenario)
    assert [t.symbol for t in tickers] == ["PF_ETHUSD", "PF_XBTUSD"]
    assert isinstance(ticker, Ticker)
    assert ticker.mark_price == Decimal(51_000)
    assert [i.symbol for i in instruments] == ["PF_XBTUSD", "PF_ETHUSD"]
    assert isinstance(accounts, Accounts)
    assert accounts.flex is not None
    assert accounts.flex.balance_value == Decimal(10_000)
    assert positions == []
    assert now == START
    assert fake.calls == {
        "tickers": 1,
        "ticker": 1,
        "instruments": 1,
        "accounts": 1,
        "open_positions": 1,
    }
    assert (fake.opened, fake.closed) == (1, 1)


def test_orders_placed_show_in_open_orders_status_fills_and_positions() -> None:
    fake = FakeBackend()

    async def scenario() -> tuple[Any, ...]:
        async with Session(backend=fake) as kf:
            resting = await kf.orders.send(
                symbol="PF_XBTUSD", side="buy", size="0.5", limit_price=40_000, cli_ord_id="rest"
            )
            taken = await kf.orders.send(
                symbol="PF_XBTUSD", side="buy", size="0.25", order_type="mkt", cli_ord_id="take"
            )
            return (
                resting,
                taken,
                await kf.orders.open(),
                await kf.orders.status(cli_ord_ids=["rest", "take"]),
                await kf.orders.fills(),
                await kf.account.open_positions(),
                await kf.account.accounts(),
            )

    resting, taken, open_orders, statuses, fills, positions, accounts = run_virtual(scenario)[0]
    assert isinstance(resting, SendOrderResult)
    assert resting.status is OrderRequestStatus.PLACED
    assert taken.status is OrderRequestStatus.FILLED
    assert taken.filled_size == Decimal("0.25")
    assert [o.cli_ord_id for o in open_orders] == ["rest"]
    assert isinstance(open_orders[0], OpenOrder)
    assert open_orders[0].order_id == resting.order_id
    assert open_orders[0].unfilled_size == Decimal("0.5")
    assert {(s.order.cli_ord_id, s.status) for s in statuses} == {
        ("rest", "ENTERED_BOOK"),
        ("take", "FULLY_EXECUTED"),
    }
    assert [(f.order_id, f.size, f.price) for f in fills] == [
        (taken.order_id, Decimal("0.25"), Decimal(50_000))
    ]
    assert positions == [
        OpenPosition(
            symbol="PF_XBTUSD", side=PositionSide.LONG, size=Decimal("0.25"), price=Decimal(50_000)
        )
    ]
    assert accounts.flex is not None
    assert accounts.flex.pnl == 0


def test_a_refused_order_raises_order_rejected_and_tells_no_observer() -> None:
    fake = FakeBackend()
    seen: list[str] = []

    async def scenario() -> OrderRejectedError:
        async with Session(backend=fake) as kf:
            kf.add_observer(lambda operation, request, result: seen.append(operation))
            await kf.orders.send(
                symbol="PF_XBTUSD", side="buy", size=1, limit_price=40_000, cli_ord_id="twice"
            )
            with pytest.raises(OrderRejectedError) as refused:
                await kf.orders.send(
                    symbol="PF_XBTUSD", side="buy", size=1, limit_price=40_000, cli_ord_id="twice"
                )
            return refused.value

    refusal, _ = run_virtual(scenario)
    assert refusal.status == OrderRequestStatus.CLIENT_ORDER_ID_ALREADY_EXIST.value
    assert refusal.endpoint == "send_order"
    assert seen == ["instruments", "send_order"]
    assert fake.calls["send_order"] == 2
    assert len(fake.exchange.placements) == 1


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda kf: kf.orders.send(symbol="PF_XBTUSD", side="buy", size=1), id="lmt"),
        pytest.param(
            lambda kf: kf.orders.send(symbol="PF_XBTUSD", side="up", size=1, limit_price=1),
            id="side",
        ),
        pytest.param(
            lambda kf: kf.orders.send(symbol="PF_XBTUSD", side="buy", size=-1, limit_price=1),
            id="size",
        ),
        pytest.param(lambda kf: kf.orders.cancel(), id="cancel-no-id"),
        pytest.param(lambda kf: kf.orders.edit(order_id="x"), id="edit-nothing"),
        pytest.param(lambda kf: kf.orders.cancel_all_after(-1), id="dms-negative"),
        pytest.param(lambda kf: kf.orders.status(), id="status-no-id"),
        pytest.param(lambda kf: kf.orders.fills(before=dt.datetime(2026, 1, 1)), id="naive"),
        pytest.param(lambda kf: kf.market.ticker(""), id="empty-symbol"),
    ],
)
def test_argument_errors_raise_before_the_backend_sees_a_call(call: Any) -> None:
    fake = FakeBackend()

    async def scenario() -> None:
        async with Session(backend=fake) as kf:
            with pytest.raises(InvalidArgumentError):
                await call(kf)

    run_virtual(scenario)
    assert fake.calls == {}
    assert fake.log == []


def test_an_order_off_the_contracts_grid_is_refused_before_it_is_sent() -> None:
    fake = FakeBackend()

    async def scenario() -> list[str]:
        messages = []
        async with Session(backend=fake) as kf:
            for price, size in ((Decimal("40000.5"), 1), (40_000, Decimal("0.00001"))):
                with pytest.raises(InvalidArgumentError) as bad:
                    await kf.orders.send(
                        symbol="PF_XBTUSD", side="buy", size=size, limit_price=price
                    )
                messages.append(str(bad.value))
        return messages

    messages, _ = run_virtual(scenario)
    assert "tick size" in messages[0]
    assert "size step" in messages[1]
    assert fake.calls == {"instruments": 1}  # the rules were fetched; no order was sent


@pytest.mark.parametrize(
    ("call", "operation"),
    [
        (lambda kf: kf.market.orderbook("PF_XBTUSD"), "orderbook"),
        (lambda kf: kf.account.notifications(), "notifications"),
        (lambda kf: kf.history.orders(), "history_orders"),
        (lambda kf: kf.settings.leverage_preferences(), "leverage_preferences"),
    ],
)
def test_an_unsupported_operation_is_refused_before_anything_is_sent(
    call: Any, operation: str
) -> None:
    fake = FakeBackend()

    async def scenario() -> UnsupportedOperationError:
        async with Session(backend=fake) as kf:
            with pytest.raises(UnsupportedOperationError) as refused:
                await call(kf)
            return refused.value

    error, _ = run_virtual(scenario)
    assert operation in str(error)
    assert "fake" in str(error)
    assert error.endpoint == operation
    assert fake.calls == {}


def test_supports_is_true_exactly_for_what_the_fake_serves() -> None:
    fake = FakeBackend()
    served = {op.name for op in ops.OPERATIONS.values() if fake.supports(op)}
    assert served == set(FakeBackend.SUPPORTED)
    assert not fake.supports(ops.BATCH_ORDER)
    assert fake.supports(ops.SEND_ORDER)


def failing(operation: str, request: Any, result: Any) -> None:
    raise RuntimeError("an observer that fails")


def test_without_an_instrument_list_orders_go_unchecked_locally() -> None:
    fake = FakeBackend(without=(ops.INSTRUMENTS,))

    async def scenario() -> SendOrderResult:
        async with Session(backend=fake) as kf:
            return await kf.orders.send(
                symbol="PF_XBTUSD", side="buy", size=1, limit_price="40000.5"
            )

    placed, _ = run_virtual(scenario)
    assert placed.status is OrderRequestStatus.PLACED
    assert fake.calls == {"send_order": 1}  # instruments refused before being asked
    assert fake.exchange.placements[0].limit_price == Decimal("40000.5")


def test_observers_receive_the_operation_the_typed_request_and_the_result() -> None:
    fake = FakeBackend()
    seen: list[tuple[str, Any, Any]] = []

    async def scenario() -> tuple[list[Ticker], SendOrderResult]:
        async with Session(backend=fake) as kf:
            kf.add_observer(lambda *told: seen.append(told))
            kf.add_observer(failing)  # a failing observer is logged, not raised
            tickers = await kf.market.tickers()
            placed = await kf.orders.send(
                symbol="PF_ETHUSD", side=Side.SELL, size=2, limit_price="3100.5", cli_ord_id="o1"
            )
            return tickers, placed

    (tickers, placed), _ = run_virtual(scenario)
    names = [name for name, _, _ in seen]
    assert names == ["tickers", "instruments", "send_order"]
    assert seen[0][1] is NO_ARGUMENTS
    assert seen[0][2] is tickers
    request = seen[2][1]
    assert isinstance(request, SendOrder)
    assert (request.cli_ord_id, request.side, request.limit_price) == (
        "o1",
        Side.SELL,
        Decimal("3100.5"),
    )
    assert seen[2][2] is placed


def test_an_unknown_ticker_is_the_fakes_not_found() -> None:
    fake = FakeBackend()

    async def scenario() -> None:
        async with Session(backend=fake) as kf:
            with pytest.raises(NotFoundError):
                await kf.market.ticker("PF_NOPE")

    run_virtual(scenario)
    assert fake.calls == {"ticker": 1}


# --- no REST ------------------------------------------------------------------------------

_FORBIDDEN = ("kraken_futures_async.rest", "httpx", "aiohttp", "respx")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = "." * node.level + (node.module or "")
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def test_the_fake_backend_and_its_tests_import_no_rest_and_no_http() -> None:
    files = [HERE / "fake_backend.py", *sorted(HERE.glob("test_fake_backend_*.py"))]
    assert len(files) >= 4
    for path in files:
        imports = _imports(path)
        assert imports, path
        bad = sorted(n for n in imports if n.lstrip(".").startswith(_FORBIDDEN) or ".rest" in n)
        assert bad == [], f"{path.name} imports {bad}"


def test_the_ast_check_would_see_a_rest_import(tmp_path: Path) -> None:
    sneaky = tmp_path / "sneaky.py"
    sneaky.write_text("from kraken_futures_async.rest.backend import RestBackend\nimport httpx\n")
    assert "kraken_futures_async.rest.backend" in _imports(sneaky)
    assert "httpx" in _imports(sneaky)


def test_a_session_over_the_fake_never_builds_the_rest_backend(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_rest(**_: Any) -> None:
        raise AssertionError("the REST backend was built")

    monkeypatch.setattr("kraken_futures_async.session.RestBackend", no_rest)
    fake = FakeBackend()

    async def scenario() -> SendOrderResult:
        async with Session(backend=fake) as kf:
            assert kf.backend is fake
            assert kf.order_lookup is fake.order_lookup
            return await kf.orders.send(symbol="PF_XBTUSD", side="buy", size=1, limit_price=40_000)

    placed, _ = run_virtual(scenario)
    assert placed.status is OrderRequestStatus.PLACED
    with pytest.raises(AssertionError, match="REST backend was built"):
        Session()
