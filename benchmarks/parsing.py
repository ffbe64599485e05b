"""(d) The twin's tickers answer (about 300 tickers) into exact-Decimal models, against
``orjson.loads`` of the same bytes.

All in this process, no I/O: CPU per parse, median over interleaved rounds. The library row
is what every ``tickers()`` call does after the bytes of a 200 answer arrive:
``converter.answer_decoder`` (msgspec decodes the bytes straight into ``msgspec.Struct``
mirrors of the models under the wire's keys, then into the same frozen ``Ticker`` models in
C), and on a miss (an error envelope, a value it does not read exactly) the general path.
The general path has a row of its own: the envelope check on the JSON read with exact
Decimals (``decode_json``), then the production converter's structure hook (cattrs, with
per-class functions from ``_fast_structure``); it is checked to give the same models. The
last row is a whole ``kf.market.tickers()`` on an httpx ``MockTransport``, so it adds httpx,
the limiter and the pipeline around the same parse.

The JSON reads side by side: orjson (no Decimals, the yardstick), json, json with
``parse_float=Decimal`` (the library's decoder before issue 13), msgspec and msgspec with
``float_hook=Decimal`` (``decode_json`` since).
"""

from __future__ import annotations

import asyncio
import gc
import json
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import httpx
import msgspec
import orjson

from kraken_futures_async import RateLimitPolicy, Session
from kraken_futures_async.converter import MISS, answer_decoder, default_converter
from kraken_futures_async.rest.endpoints import endpoint
from kraken_futures_async.rest.envelope import read_payload

from .harness import Control, median, rotated

#: report.py finds the library's row by "cattrs" (the general path is its fallback).
LIBRARY = (
    "kraken_futures_async: answer_decoder (msgspec) into Ticker models, "
    "the general cattrs path on a miss"
)
GENERAL = (
    "kraken_futures_async general path: Decimal JSON + envelope + converter into Ticker models"
)


def _general_parse(body: bytes) -> Callable[[], object]:
    tickers = endpoint("tickers")
    hook = default_converter().get_structure_hook(tickers.result)
    response = httpx.Response(200, content=body, headers={"Content-Type": "application/json"})

    def parse() -> object:
        return hook(read_payload(tickers, response), tickers.result)

    return parse


def _library_parse(body: bytes, general: Callable[[], object]) -> Callable[[], object]:
    """What the pipeline does with a 200 answer's bytes; checked equal to the general path."""
    tickers = endpoint("tickers")
    decode = answer_decoder(default_converter(), tickers.result, tickers.result_key)

    def parse() -> object:
        result = MISS if decode is None else decode(body)
        return general() if result is MISS else result

    if repr(parse()) != repr(general()):
        raise AssertionError("answer_decoder and the general path disagree on the tickers")
    return parse


def _timed(parse: Callable[[], object], repeat: int) -> float:
    gc.collect()
    started = time.process_time()
    for _ in range(repeat):
        parse()
    return (time.process_time() - started) / repeat


async def _whole_call(body: bytes, repeat: int) -> list[float]:
    def answer(_: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body, headers={"Content-Type": "application/json"})

    async with Session(
        base_url="http://twin.test",
        transport=httpx.MockTransport(answer),
        rate_limits=RateLimitPolicy.unlimited(),
    ) as kf:
        await kf.market.tickers()
        times = []
        for _ in range(5):
            gc.collect()
            started = time.process_time()
            for _ in range(repeat):
                await kf.market.tickers()
            times.append((time.process_time() - started) / repeat)
    return times


async def run(control: Control, *, rounds: int, repeat: int) -> dict[str, Any]:
    body = await control.tickers_body()
    count = len(orjson.loads(body)["tickers"])
    exact = msgspec.json.Decoder(float_hook=Decimal)
    general = _general_parse(body)
    contenders: dict[str, Callable[[], object]] = {
        "orjson.loads": lambda: orjson.loads(body),
        "json.loads": lambda: json.loads(body),
        "json.loads(parse_float=Decimal)": lambda: json.loads(body, parse_float=Decimal),
        "msgspec.json.decode": lambda: msgspec.json.decode(body),
        "msgspec.json.Decoder(float_hook=Decimal).decode": lambda: exact.decode(body),
        GENERAL: general,
        LIBRARY: _library_parse(body, general),
    }
    for parse in contenders.values():
        _timed(parse, 3)
    times: dict[str, list[float]] = {name: [] for name in contenders}
    names = list(contenders)
    for round_number in range(rounds):
        for name in rotated(names, round_number):
            times[name].append(_timed(contenders[name], repeat))
    times["kraken_futures_async: whole tickers() call on httpx.MockTransport"] = await _whole_call(
        body, repeat
    )
    base = median(times["orjson.loads"])
    rows = [
        {
            "contender": name,
            "ms": median(values) * 1e3,
            "ms_min": min(values) * 1e3,
            "x_orjson": median(values) / base,
        }
        for name, values in times.items()
    ]
    return {"tickers": count, "bytes": len(body), "rows": rows}


if __name__ == "__main__":  # quick look without the twin's process
    from kraken_futures_async.simulator import Twin

    async def _main() -> None:
        twin = Twin()
        async with httpx.AsyncClient(transport=twin.transport(), base_url="http://t") as client:
            body = (await client.get("/derivatives/api/v3/tickers")).content

        class _Local(Control):
            async def tickers_body(self) -> bytes:
                return body

        control = _Local("http://t")
        print(json.dumps(await run(control, rounds=5, repeat=20), indent=1))
        await control.aclose()

    asyncio.run(_main())
