"""The pipeline's straight-to-models decoder gives what the general path gives.

Each answer is read twice by identical Sessions: once as the pipeline reads it now (the
converter's ``answer_decoder`` for a plain success, the general path otherwise) and once with
that decoder switched off. Models, errors and the clock noted from ``serverTime`` must match.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from kraken_futures_async import Credentials, Session
from kraken_futures_async.errors import KrakenFuturesError
from tests.rest_access import rest
from tests.test_hot_path_wire import BOOK, Recorder, http_answer, session

TICKERS = (
    b'{"result":"success","serverTime":"2026-12-07T00:00:00.000Z","tickers":['
    b'{"symbol":"PF_XBTUSD","last":67261.500,"lastTime":"2026-12-07T00:00:00.000Z",'
    b'"bid":67261.0,"ask":67262.000,"bidSize":0E-11,"askSize":2,"tag":"perpetual",'
    b'"pair":"XBT:USD","markPrice":67261.25,"suspended":false,"postOnly":false},'
    b'{"symbol":"PF_ETHUSD","last":3000,"lastTime":"2026-12-07T00:00:00.5+01:00",'
    b'"tag":"perpetual","pair":"ETH:USD","suspended":false}]}'
)

Read = Callable[[Session], Awaitable[Any]]
CASES: dict[str, tuple[bytes, Read]] = {
    "order book": (http_answer(BOOK), lambda kf: kf.market.orderbook("PF_XBTUSD")),
    "tickers, one time not Kraken's form": (http_answer(TICKERS), lambda kf: kf.market.tickers()),
    "error envelope": (
        http_answer(b'{"result":"error","error":"invalidArgument","serverTime":"x"}'),
        lambda kf: kf.market.orderbook("PF_XBTUSD"),
    ),
    "wrong shape": (
        http_answer(b'{"result":"success","orderBook":{"bids":[[1]],"asks":[]}}'),
        lambda kf: kf.market.orderbook("PF_XBTUSD"),
    ),
    "errors beside success": (
        http_answer(b'{"result":"success","errors":[{"code":1}],"orderBook":{}}'),
        lambda kf: kf.market.orderbook("PF_XBTUSD"),
    ),
}


async def _read(url: str, credentials: Credentials, read: Read, *, fast: bool) -> Any:
    async with session(url, credentials) as kf:
        pipeline = rest(kf).pipeline
        if not fast:
            pipeline._answer_decoder = lambda endpoint: None  # type: ignore[method-assign]
        try:
            outcome: Any = await read(kf)
        except KrakenFuturesError as exc:
            outcome = (type(exc), str(exc))
        return outcome, pipeline._clock_offset is not None


@pytest.mark.parametrize("case", list(CASES))
async def test_models_and_errors_match_the_general_path(
    case: str, credentials: Credentials
) -> None:
    answer, read = CASES[case]
    async with Recorder(answer) as server:
        fast = await _read(server.url, credentials, read, fast=True)
        general = await _read(server.url, credentials, read, fast=False)
    assert fast == general
    answered = case in ("order book", "tickers, one time not Kraken's form")
    assert answered is not isinstance(fast[0], tuple)


async def test_a_plain_book_is_read_by_the_decoder(credentials: Credentials) -> None:
    async with Recorder(http_answer(BOOK)) as server, session(server.url, credentials) as kf:
        pipeline = rest(kf).pipeline
        book = await kf.market.orderbook("PF_XBTUSD")
        assert pipeline._answer_decoders["orderbook"] is not None
        assert pipeline._clock_offset is not None
    assert [str(level.price) for level in book.asks] == ["67262.000", "67263.5"]
