"""Generated inputs: bad order arguments fail locally, bad answers fail as the library's own.

Order arguments (symbols of the twin and made-up ones, every side and order type and junk,
sizes and prices that are zero, negative, NaN, infinite, huge or oddly precise, client ids
long and unicode) either raise :class:`InvalidArgumentError` before anything is sent, or make
a request the twin reads as well-formed: it may refuse it on business grounds (a price off
the tick, too little margin), never for being unreadable.

Answers (any JSON put where an endpoint's payload goes, or as the whole body) raise
:class:`ResponseInvalidError` or one of the library's API errors, never ``KeyError``,
``AttributeError``, ``TypeError`` or anything else from outside the library.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from decimal import Decimal
from functools import cache
from typing import Any

import httpx
import time_machine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kraken_futures_async import (
    APIError,
    Credentials,
    InvalidArgumentError,
    InvalidRequestError,
    KrakenFuturesError,
    NotFoundError,
    OrderRejectedError,
    RateLimitPolicy,
    ResponseInvalidError,
    Session,
)
from kraken_futures_async.models.enums import OrderType
from kraken_futures_async.rest.endpoints import endpoint
from kraken_futures_async.retry import OrderSafety, RetryPolicy
from kraken_futures_async.simulator import ManualClock, Twin, TwinConfig
from tests.rest_access import rest

from .conftest import BASE_URL, TEST_KEY, TEST_SECRET
from .test_safety_support import RecordingTransport

#: What the twin answers for a request it cannot read (as opposed to one it refuses).
UNREADABLE = {"requiredArgumentMissing", "invalidArgument", "Json Parse Error"}

FUZZ = settings(
    max_examples=100,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# --- order arguments ----------------------------------------------------------------------


@cache
def twin_symbols() -> tuple[str, ...]:
    """A spread of the twin's own contracts: perpetuals, fixed-maturity, inverse."""
    twin = Twin(TwinConfig(clock=ManualClock(), rate_limits=False))

    async def read() -> list[str]:
        async with twin.session(rate_limits=RateLimitPolicy.unlimited()) as kf:
            return [i.symbol for i in await kf.market.instruments() if i.tradeable]

    symbols = asyncio.run(read())
    return tuple(symbols[:8] + [s for s in symbols if not s.startswith("PF_")][:8])


odd_strings = st.sampled_from(["", " ", "\t", "null", "0", "-", "é", "😀", "a\nb", "x" * 200])
numbers: st.SearchStrategy[Any] = st.one_of(
    st.decimals(allow_nan=True, allow_infinity=True),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.sampled_from(
        [
            Decimal(0),
            Decimal("-0.0001"),
            Decimal("0.0001"),
            Decimal("0.00000000001"),
            Decimal("1E+30"),
            Decimal("1e-30"),
            Decimal("123.456789123456789"),
            Decimal("NaN"),
            Decimal("sNaN"),
            Decimal("-Infinity"),
            "1e3",
            "0x10",
            "1_000",
            " 5 ",
            True,
            None,
            [],
        ]
    ),
    odd_strings,
)
known_symbols = st.deferred(lambda: st.sampled_from(twin_symbols()))
symbols = st.one_of(
    st.sampled_from(["PF_XBTUSD", "PF_ETHUSD"]),
    known_symbols,
    st.sampled_from(["pf_xbtusd", "PF_NOPE", "PF XBTUSD", "PF_XBTUSD ", "ПФ_XBTUSD", "PF-XBT"]),
    st.text(max_size=12),
    odd_strings,
)
sides = st.one_of(
    st.sampled_from(["buy", "sell", "BUY", "Sell", "long", "short", "unknown"]),
    st.text(max_size=5),
    st.integers(),
)
order_types = st.one_of(
    st.sampled_from([t.value for t in OrderType]),
    st.sampled_from(["LMT", "limit", "market", "stop", "unknown"]),
    st.text(max_size=6),
)
cli_ids = st.one_of(
    st.none(),
    st.text(max_size=110),
    st.sampled_from(["a" * 100, "a" * 101, "ünïcödé", "tab\tid", "emoji😀", "a&b=c%20d+e"]),
)


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy)


#: Positive numbers of every precision and size, as Decimal, int, float or text.
positives = st.one_of(
    st.builds(
        lambda units, exponent: Decimal(units).scaleb(-exponent),
        st.integers(min_value=1, max_value=10**7),
        st.integers(min_value=0, max_value=10),
    ),
    st.integers(min_value=1, max_value=10**6),
    st.floats(min_value=1e-6, max_value=1e6),
    st.decimals(min_value=Decimal("0.0001"), max_value=Decimal(10**6), places=4).map(str),
)
good_types = [t.value for t in OrderType if t is not OrderType.UNKNOWN]
_LIMITED = {"lmt", "post", "ioc", "fok"}
_TRIGGERED = {"stp", "take_profit"}

#: For each argument, the junk it may be swapped for.
MUTATIONS: dict[str, st.SearchStrategy[Any]] = {
    "symbol": symbols,
    "side": sides,
    "size": numbers,
    "order_type": order_types,
    "limit_price": maybe(numbers),
    "stop_price": maybe(numbers),
    "trigger_signal": maybe(st.sampled_from(["mark", "index", "last", "spot", "MARK", "x"])),
    "reduce_only": maybe(st.one_of(st.booleans(), st.sampled_from(["true", 1, 0]))),
    "cli_ord_id": cli_ids,
    "trailing_stop_max_deviation": maybe(numbers),
    "trailing_stop_deviation_unit": maybe(
        st.sampled_from(["PERCENT", "QUOTE_CURRENCY", "percent", "x"])
    ),
    "limit_price_offset_value": maybe(numbers),
    "limit_price_offset_unit": maybe(st.sampled_from(["PERCENT", "QUOTE_CURRENCY", "x"])),
    "process_before": maybe(
        st.sampled_from(
            [
                dt.datetime(2030, 1, 1, tzinfo=dt.UTC),
                dt.datetime(2030, 1, 1),  # naive
                "2030-01-01T00:00:00Z",
            ]
        )
    ),
}


@st.composite
def order_arguments(draw: st.DrawFn) -> dict[str, Any]:
    """A plausible order of any type, then none, one or two of its arguments made junk."""
    kind = draw(st.sampled_from(good_types))
    arguments: dict[str, Any] = {
        "symbol": draw(st.one_of(st.sampled_from(["PF_XBTUSD", "PF_ETHUSD"]), known_symbols)),
        "side": draw(st.sampled_from(["buy", "sell"])),
        "size": draw(positives),
        "order_type": kind,
        "cli_ord_id": draw(cli_ids),
        "reduce_only": draw(maybe(st.booleans())),
    }
    if kind in _LIMITED:
        arguments["limit_price"] = draw(positives)
    if kind in _TRIGGERED:
        arguments["stop_price"] = draw(positives)
        arguments["limit_price"] = draw(maybe(positives))
    if kind == "trailing_stop":
        arguments["trailing_stop_max_deviation"] = draw(positives)
        arguments["trailing_stop_deviation_unit"] = draw(
            st.sampled_from(["PERCENT", "QUOTE_CURRENCY"])
        )
    if kind in _TRIGGERED or kind == "trailing_stop":
        arguments["trigger_signal"] = draw(maybe(st.sampled_from(["mark", "index", "last"])))
    if draw(st.booleans()):
        arguments["process_before"] = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    for name in draw(st.lists(st.sampled_from(sorted(MUTATIONS)), max_size=2, unique=True)):
        arguments[name] = draw(MUTATIONS[name])
    return arguments


class _Shared:
    """One twin for every example: building its listing for each would dominate the run."""

    clock = ManualClock()
    twin = Twin(
        TwinConfig(
            seed=3,
            clock=clock,
            rate_limits=False,
            balances={"USD": Decimal(10) ** 9},
        )
    )
    transport = RecordingTransport(twin)


async def _send(arguments: dict[str, Any]) -> tuple[object, list[str]]:
    session = _Shared.twin.session(
        rate_limits=RateLimitPolicy.unlimited(),
        retry=RetryPolicy.never(),
        order_safety=OrderSafety(patience=0.5, poll_interval=0.1),
        transport=_Shared.transport,
    )
    before = len(_Shared.transport.paths)
    # Before its first answer a Session stamps processBefore from the machine's clock: set it
    # to the twin's, so the outcome does not depend on today's date.
    with time_machine.travel(_Shared.clock.time(), tick=False):
        async with session as kf:
            try:
                outcome: object = await kf.orders.send(**arguments)
            except KrakenFuturesError as exc:
                outcome = exc
    return outcome, _Shared.transport.paths[before:]


@FUZZ
@given(order_arguments())
def test_order_arguments_fail_locally_or_make_a_well_formed_request(
    arguments: dict[str, Any],
) -> None:
    outcome, sent = asyncio.run(_send(arguments))
    sends = [path for path in sent if path.endswith("/sendorder")]
    if isinstance(outcome, InvalidArgumentError):
        assert sends == [], "refused locally, yet sent"
        assert str(outcome)
        return
    assert len(sends) == 1, (outcome, sent)
    assert _Shared.twin.app.internal_errors == []
    if isinstance(outcome, InvalidRequestError):
        known = arguments["symbol"] in twin_symbols() or arguments["symbol"] in (
            "PF_XBTUSD",
            "PF_ETHUSD",
        )
        # an unknown contract is a refusal the library cannot foresee; nothing else is
        assert isinstance(outcome, NotFoundError) or (
            outcome.code == 11 and not known and "symbol" in outcome.message
        ), (arguments, outcome)
        assert outcome.code not in UNREADABLE, (arguments, outcome)
        return
    assert not isinstance(outcome, KrakenFuturesError) or isinstance(
        outcome, OrderRejectedError | APIError
    ), (arguments, outcome)
    if isinstance(outcome, OrderRejectedError):
        assert outcome.status not in UNREADABLE, (arguments, outcome)


# --- answers ------------------------------------------------------------------------------

FIELD_NAMES = [
    "symbol",
    "status",
    "order_id",
    "orderId",
    "cliOrdId",
    "price",
    "size",
    "side",
    "type",
    "fillTime",
    "fill_id",
    "fillType",
    "orders",
    "order",
    "tickers",
    "bids",
    "asks",
    "accounts",
    "flex",
    "currencies",
    "balances",
    "receivedTime",
    "orderEvents",
    "error",
    "errors",
    "result",
    "serverTime",
    "limitPrice",
    "quantity",
    "filled",
    "timestamp",
]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=False),
    st.text(max_size=10),
    st.sampled_from(["2026-11-24T00:00:00.000Z", "buy", "sell", "placed", "1.5", "lmt"]),
)
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(
            st.one_of(st.sampled_from(FIELD_NAMES), st.text(max_size=6)), children, max_size=6
        ),
    ),
    max_leaves=25,
)

#: Reads go through their resource; order calls through the bare pipeline, because on the
#: resource an unreadable answer to an order is (rightly) reconciled, not raised.
READS = {
    "tickers": lambda kf: kf.market.tickers(),
    "ticker": lambda kf: kf.market.ticker("PF_XBTUSD"),
    "orderbook": lambda kf: kf.market.orderbook("PF_XBTUSD"),
    "instruments": lambda kf: kf.market.instruments(),
    "accounts": lambda kf: kf.account.accounts(),
    "open_positions": lambda kf: kf.account.open_positions(),
    "open_orders": lambda kf: kf.orders.open(),
    "fills": lambda kf: kf.orders.fills(),
    "order_status": lambda kf: kf.orders.status(cli_ord_ids=["x"]),
}
ORDER_CALLS = [
    "send_order",
    "edit_order",
    "cancel_order",
    "cancel_all_orders",
    "cancel_all_orders_after",
    "batch_order",
]


async def _answer(name: str, body: bytes) -> object:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body, headers={"content-type": "application/json"})

    session = Session(
        Credentials(TEST_KEY, TEST_SECRET),
        base_url=BASE_URL,
        transport=httpx.MockTransport(handler),
        rate_limits=RateLimitPolicy.unlimited(),
        retry=RetryPolicy.never(),
    )
    async with session as kf:
        try:
            if name in READS:
                return await READS[name](kf)
            return await rest(kf).call(endpoint(name), [("a", "b")])
        except KrakenFuturesError as exc:
            return exc


def _judge(name: str, body: bytes) -> None:
    outcome = asyncio.run(_answer(name, body))
    if isinstance(outcome, KrakenFuturesError):
        assert isinstance(outcome, ResponseInvalidError | APIError | OrderRejectedError), outcome
        assert str(outcome)


@FUZZ
@given(st.sampled_from([*READS, *ORDER_CALLS]), json_values)
def test_any_payload_in_a_success_envelope_fails_as_the_librarys_own(
    name: str, payload: Any
) -> None:
    key = endpoint(name).result_key
    assert key is not None
    body = {"result": "success", key: payload, "serverTime": "2026-11-24T00:00:00.000Z"}
    _judge(name, json.dumps(body).encode())


@FUZZ
@given(st.sampled_from([*READS, *ORDER_CALLS]), json_values)
def test_any_whole_body_fails_as_the_librarys_own(name: str, body: Any) -> None:
    _judge(name, json.dumps(body).encode())


@FUZZ
@given(st.sampled_from([*READS, *ORDER_CALLS]), st.binary(max_size=64))
def test_any_bytes_fail_as_the_librarys_own(name: str, body: bytes) -> None:
    _judge(name, body)
