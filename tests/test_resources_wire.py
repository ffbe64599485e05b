"""The resources added for full coverage on the wire: JSON bodies, CSV text, 204 answers,
PUT parameters in the query, plain-success answers, deprecation warnings, and arguments
refused before anything is sent."""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from kraken_futures_async import (
    Credentials,
    InvalidArgumentError,
    RateLimitError,
    RateLimitPolicy,
    ResponseInvalidError,
    Session,
)
from kraken_futures_async.converter import strict_converter
from kraken_futures_async.errors import AuthenticationError
from kraken_futures_async.models import SelfMarketShare, SelfTradeStrategy, SimulatedPosition
from kraken_futures_async.rest.signing import endpoint_path, sign
from kraken_futures_async.retry import RetryPolicy
from tests.conftest import BASE_URL, TEST_SECRET

D = Decimal
AT = dt.datetime(2024, 5, 1, tzinfo=dt.UTC)
SUCCESS = {"result": "success", "serverTime": "2024-05-01T00:00:00.000Z"}


class Answer:
    """A transport giving one fixed answer and remembering each request."""

    def __init__(self) -> None:
        self.response = httpx.Response(200, json=SUCCESS)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.response

    def json(self, body: Any, status: int = 200, **headers: str) -> None:
        self.response = httpx.Response(
            status,
            content=json.dumps(body).encode(),
            headers={"Content-Type": "application/json", **headers},
        )

    def text(self, body: str, content_type: str, status: int = 200, **headers: str) -> None:
        self.response = httpx.Response(
            status, content=body.encode(), headers={"Content-Type": content_type, **headers}
        )

    @property
    def last(self) -> httpx.Request:
        return self.requests[-1]


@pytest.fixture
def answer() -> Answer:
    return Answer()


@pytest.fixture
async def kf(answer: Answer, credentials: Credentials) -> AsyncIterator[Session]:
    async with Session(
        credentials,
        base_url=BASE_URL,
        rate_limits=RateLimitPolicy.unlimited(),
        transport=httpx.MockTransport(answer),
        retry=RetryPolicy.never(),  # tests never wait on real time
        converter=strict_converter(),
    ) as opened:
        yield opened


# --- JSON bodies (RFQ offers) ---------------------------------------------------------------


async def test_an_offer_travels_as_a_signed_json_body_with_exact_numbers(
    kf: Session, answer: Answer
) -> None:
    answer.json({**SUCCESS, "offerUid": "o-1"})
    placed = await kf.rfq.place_offer("r-1", bid=D("100.50"), ask="101")

    request = answer.last
    assert placed.offer_uid == "o-1"
    assert (request.method, request.url.path) == (
        "POST",
        "/derivatives/api/v3/rfqs/r-1/place-offer",
    )
    assert request.url.query == b""
    assert request.headers["Content-Type"] == "application/json"
    assert request.content == b'{"bid":100.50,"ask":101}'
    assert json.loads(request.content, parse_float=Decimal) == {"bid": D("100.50"), "ask": 101}
    expected = sign(
        base64.b64decode(TEST_SECRET),
        request.content.decode(),
        request.headers["Nonce"],
        endpoint_path(request.url.path),
    )
    assert request.headers["Authent"] == expected


async def test_replacing_an_offer_sends_only_the_sides_given(kf: Session, answer: Answer) -> None:
    await kf.rfq.replace_offer("r-1", ask=D("99.5"))
    assert answer.last.method == "PUT"
    assert answer.last.content == b'{"ask":99.5}'


# --- CSV text and 204 ---------------------------------------------------------------------


async def test_the_account_log_csv_comes_back_as_sent(kf: Session, answer: Answer) -> None:
    csv = "date,uid,asset\n2024-05-01,b1,usd\n"
    answer.text(csv, "text/csv")
    assert await kf.history.account_log_csv(conversion_details=True) == csv
    assert answer.last.url.path == "/api/history/v3/accountlogcsv"
    assert parse_qs(answer.last.url.query.decode()) == {"conversion_details": ["true"]}


async def test_errors_on_the_csv_endpoint_are_still_errors(kf: Session, answer: Answer) -> None:
    answer.text("Too many requests", "text/plain", status=429, **{"rate-limit-reset": "12"})
    with pytest.raises(RateLimitError) as caught:
        await kf.history.account_log_csv()
    assert caught.value.retry_after == 12.0

    answer.json({"error": "Unauthorized", "message": "bad key", "suberror": None}, status=401)
    with pytest.raises(AuthenticationError):
        await kf.history.account_log_csv()


async def test_stats_not_aggregated_yet_is_none(kf: Session, answer: Answer) -> None:
    answer.response = httpx.Response(204)
    assert await kf.stats.self_market_share() is None

    answer.json(
        {
            "contracts": {
                "PF_XBTUSD": {"marketShare": "0.015", "volume": "8", "usdRebateCredited": "1.5"}
            }
        }
    )
    share = await kf.stats.self_market_share()
    assert isinstance(share, SelfMarketShare)
    assert share.contracts["PF_XBTUSD"].market_share == D("0.015")
    assert answer.last.url.path == "/api/stats/v1/rebates/self-market-share"
    assert "Authent" in answer.last.headers


async def test_a_204_where_an_answer_is_due_is_an_invalid_response(
    kf: Session, answer: Answer
) -> None:
    answer.response = httpx.Response(204)
    with pytest.raises(ResponseInvalidError):
        await kf.settings.leverage_preferences()


# --- query, form and plain success ---------------------------------------------------------


async def test_put_parameters_go_in_the_query_string(kf: Session, answer: Answer) -> None:
    await kf.settings.set_leverage_preference("PF_XBTUSD", D("12.5"))
    assert answer.last.method == "PUT"
    assert answer.last.content == b""
    assert answer.last.url.query == b"symbol=PF_XBTUSD&maxLeverage=12.5"

    await kf.settings.set_leverage_preference("PF_XBTUSD", None)  # back to cross margin
    assert answer.last.url.query == b"symbol=PF_XBTUSD"


async def test_post_parameters_go_in_a_form_body(kf: Session, answer: Answer) -> None:
    await kf.transfers.between_wallets(
        from_account="cash", to_account="flex", unit="usdt", amount=D("100.10")
    )
    assert answer.last.url.query == b""
    assert answer.last.content == b"fromAccount=cash&toAccount=flex&unit=usdt&amount=100.10"


async def test_the_simulated_portfolio_travels_in_the_json_query_parameter(
    kf: Session, answer: Answer
) -> None:
    with pytest.raises(ResponseInvalidError):  # the plain success lacks the margin figures
        await kf.portfolio.simulate(
            [SimulatedPosition(instrument="PF_XBTUSD", size=D("-1.50"), entry_price=D("65000"))]
        )
    request = answer.last
    assert (request.method, request.content) == ("POST", b"")
    (text,) = parse_qs(request.url.query.decode())["json"]
    assert text == '{"positions":[{"instrument":"PF_XBTUSD","size":-1.50,"entryPrice":65000}]}'


async def test_a_plain_success_with_more_to_say_is_refused_by_the_strict_converter(
    kf: Session, answer: Answer
) -> None:
    answer.json({**SUCCESS, "surprise": 1})
    with pytest.raises(ResponseInvalidError):
        await kf.transfers.between_wallets(
            from_account="cash", to_account="flex", unit="usdt", amount=1
        )


async def test_the_set_strategy_answer_is_the_new_strategy(kf: Session, answer: Answer) -> None:
    answer.json({**SUCCESS, "strategy": "CANCEL_MAKER_ANY"})
    chosen = await kf.settings.set_self_trade_strategy(SelfTradeStrategy.CANCEL_MAKER_ANY)
    assert chosen is SelfTradeStrategy.CANCEL_MAKER_ANY
    assert answer.last.url.query == b"strategy=CANCEL_MAKER_ANY"


async def test_the_subaccount_switch_reads_its_answer(kf: Session, answer: Answer) -> None:
    answer.json({"tradingEnabled": False})
    assert await kf.subaccounts.set_trading_enabled("uid-1", False) is False
    assert answer.last.url.path == "/derivatives/api/v3/subaccount/uid-1/trading-enabled"
    assert answer.last.url.query == b"tradingEnabled=false"


# --- deprecation -----------------------------------------------------------------------------


async def test_deprecated_calls_still_work_and_warn_at_the_callers_line(
    kf: Session, answer: Answer
) -> None:
    answer.json({**SUCCESS, "feeSchedules": []})
    with pytest.warns(DeprecationWarning, match="TradeVolume") as caught:
        assert await kf.market.fee_schedules() == []
    assert caught[0].filename == __file__
    assert "fee_schedules (getFeeSchedulesV3)" in str(caught[0].message)

    answer.json({**SUCCESS, "volumesByFeeSchedule": {"uid-1": 53823.0}})
    with pytest.warns(DeprecationWarning, match="2026-06-22"):
        volumes = await kf.account.fee_schedule_volumes()
    assert volumes == {"uid-1": D("53823.0")}


async def test_current_calls_do_not_warn(kf: Session, answer: Answer) -> None:
    answer.json({**SUCCESS, "notifications": []})
    assert await kf.account.notifications() == []  # filterwarnings=error would fail here


# --- arguments refused locally ----------------------------------------------------------------

NAIVE = dt.datetime(2024, 5, 1)

BAD_CALLS: dict[str, Callable[[Session], Awaitable[Any]]] = {
    "leverage of zero": lambda kf: kf.settings.set_leverage_preference("PF_XBTUSD", 0),
    "empty currency": lambda kf: kf.settings.set_pnl_preference("PF_XBTUSD", " "),
    "unknown strategy": lambda kf: kf.settings.set_self_trade_strategy("CANCEL_EVERYTHING"),
    "negative transfer": lambda kf: kf.transfers.between_wallets(
        from_account="cash", to_account="flex", unit="usd", amount=-1
    ),
    "withdraw nothing": lambda kf: kf.transfers.withdraw_to_spot(currency="usd", amount=0),
    "switch not a bool": lambda kf: kf.subaccounts.set_trading_enabled("u", "yes"),  # type: ignore[arg-type]
    "blank subaccount": lambda kf: kf.subaccounts.trading_enabled(""),
    "naive since": lambda kf: kf.history.executions(since=NAIVE),
    "since after before": lambda kf: kf.history.orders(since=AT, before=AT),
    "count zero": lambda kf: kf.history.triggers(count=0),
    "bad sort": lambda kf: kf.history.positions(sort="sideways"),  # type: ignore[arg-type]
    "filter not a bool": lambda kf: kf.history.positions(opened=1),  # type: ignore[arg-type]
    "unknown log info": lambda kf: kf.history.account_log(info="lottery win"),
    "from after to": lambda kf: kf.history.account_log(from_id=5, to_id=4),
    "bad tradeable": lambda kf: kf.history.market_prices("PF XBT"),
    "bad tick type": lambda kf: kf.charts.symbols("bid"),
    "bad analytics type": lambda kf: kf.charts.analytics(
        "PF_XBTUSD",
        "moon-phase",  # type: ignore[arg-type]
        since=AT,
        interval=60,
    ),
    "odd interval": lambda kf: kf.charts.liquidity_pool(since=AT, interval=120),
    "until before since": lambda kf: kf.charts.liquidity_pool(
        since=AT, interval=60, until=AT - dt.timedelta(seconds=1)
    ),
    "offer without sides": lambda kf: kf.rfq.place_offer("r-1"),
    "blank rfq": lambda kf: kf.rfq.cancel_offer(""),
    "no positions": lambda kf: kf.portfolio.simulate([]),
    "flat position": lambda kf: kf.portfolio.simulate(
        [SimulatedPosition(instrument="PF_XBTUSD", size=D(0), entry_price=D(1))]
    ),
    "unknown time frame": lambda kf: kf.assignment.add(
        contract_type="flexible_futures",
        accept_long=True,
        accept_short=True,
        time_frame="holidays",
    ),
    "accept not a bool": lambda kf: kf.assignment.add(
        contract_type="flexible_futures",
        accept_long="yes",  # type: ignore[arg-type]
        accept_short=True,
        time_frame="all",
    ),
    "preference id text": lambda kf: kf.assignment.delete("7"),  # type: ignore[arg-type]
    "bad status symbol": lambda kf: kf.market.instrument_status("PF/XBT"),
}


@pytest.mark.parametrize("name", BAD_CALLS)
async def test_bad_arguments_are_refused_before_sending(
    name: str, kf: Session, answer: Answer
) -> None:
    with pytest.raises(InvalidArgumentError):
        await BAD_CALLS[name](kf)
    assert answer.requests == []
