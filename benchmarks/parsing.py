"""(d) The twin's tickers answer (about 300 tickers) into exact-Decimal models, against
``orjson.loads`` of the same bytes.

All in this process, no I/O: CPU per parse, median over interleaved rounds. The library row
is its own answer path: the envelope check on the JSON read with Decimals, then the
production converter's structure hook (a cattrs converter whose per-class functions come
from ``_fast_structure``) into frozen ``Ticker`` models, what every ``tickers()`` call does
after the bytes arrive. The last row is a whole ``kf.market.tickers()`` on an httpx
``MockTransport``, so it adds httpx, the limiter and the pipeline around the same parse.

The JSON reads side by side: orjson (no Decimals, the yardstick), json, json with
``parse_float=Decimal`` (the library's decoder before issue 13), msgspec and msgspec with
``float_hook=Decimal`` (the library's decoder since). The row "not yet called by the
pipeline" is ``converter.answer_decoder`` for the tickers endpoint: msgspec decodes the
same bytes straight into ``msgspec.Struct`` mirrors of the models (renamed to the wire's
keys) and converts those into the same frozen ``Ticker`` models in C; it is checked equal
to the general path's models first. It is what a ``tickers()`` call gives once the
pipeline calls it for a 200 answer.
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
from kraken_futures_async.converter import answer_decoder, default_converter
from kraken_futures_async.rest.endpoints import endpoint
from kraken_futures_async.rest.envelope import read_payload

from .harness import Control, median, rotated

LIBRARY = "kraken_futures_async: Decimal JSON + envelope + converter (cattrs) into Ticker models"
TYPED = (
    "kraken_futures_async: answer_decoder (msgspec typed decode) into the same Ticker models, "
    "not yet called by the pipeline"
)


def _library_parse(body: bytes) -> Callable[[], object]:
    tickers = endpoint("tickers")
    hook = default_converter().get_structure_hook(tickers.result)
    response = httpx.Response(200, content=body, headers={"Content-Type": "application/json"})

    def parse() -> object:
        return hook(read_payload(tickers, response), tickers.result)

    return parse


def _answer_parse(body: bytes, library: object) -> Callable[[], object] | None:
    """The library's answer decoder for tickers, checked equal to the general path first."""
    tickers = endpoint("tickers")
    decode = answer_decoder(default_converter(), tickers.result, tickers.result_key)
    if decode is None or repr(decode(body)) != repr(library):
        return None

    def parse() -> object:
        return decode(body)

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
    library = _library_parse(body)
    contenders: dict[str, Callable[[], object]] = {
        "orjson.loads": lambda: orjson.loads(body),
        "json.loads": lambda: json.loads(body),
        "json.loads(parse_float=Decimal)": lambda: json.loads(body, parse_float=Decimal),
        "msgspec.json.decode": lambda: msgspec.json.decode(body),
        "msgspec.json.Decoder(float_hook=Decimal).decode": lambda: exact.decode(body),
        # report.py finds this row by "cattrs"
        LIBRARY: library,
    }
    typed = _answer_parse(body, library())
    if typed is not None:
        contenders[TYPED] = typed
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
