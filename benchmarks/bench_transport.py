"""Client CPU per order-book call: httpx's own pool against AiohttpTransport and raw aiohttp.

A tiny keep-alive HTTP server runs in a child process on 127.0.0.1 and answers every request
with the same ~2 KB order book. This process then runs rounds of N sequential calls per
contender, interleaved (A, B, C, ... in a rotating order), and reports the median over rounds
of ``time.process_time`` per call, i.e. the CPU the client spends, not the wall time.

    .venv/bin/python benchmarks/bench_transport.py [--rounds 15] [--calls 200]

Ratios from one run are what to compare; absolute numbers move with the machine's load.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack

import aiohttp
import httpx

from kraken_futures_async import RateLimitPolicy, Session
from kraken_futures_async.rest.transports import AiohttpTransport

SYMBOL = "PF_XBTUSD"
PATH = f"/derivatives/api/v3/orderbook?symbol={SYMBOL}"

Call = Callable[[], Awaitable[object]]


def order_book_json() -> bytes:
    """A deterministic book of about 2 KB in Kraken's shape (reference Appendix A)."""
    bids = [[64005 - i * 0.5, round(0.25 + i * 0.013, 4)] for i in range(60)]
    asks = [[64006 + i * 0.5, round(0.3 + i * 0.017, 4)] for i in range(60)]
    payload = {
        "result": "success",
        "serverTime": "2026-11-24T00:00:00.000Z",
        "orderBook": {"bids": bids, "asks": asks},
    }
    return json.dumps(payload, separators=(",", ":")).encode()


# --- the server (child process) -----------------------------------------------------------


class _OrderBookProtocol(asyncio.Protocol):
    """Answers every HTTP/1.1 request on the connection with the same order book."""

    def __init__(self, answer: bytes) -> None:
        self._answer = answer
        self._buffer = b""
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        while (end := self._buffer.find(b"\r\n\r\n")) >= 0:
            head, rest = self._buffer[:end], self._buffer[end + 4 :]
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if len(rest) < length:
                return
            self._buffer = rest[length:]
            assert self._transport is not None
            self._transport.write(self._answer)


async def _serve() -> None:
    body = order_book_json()
    answer = (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: _OrderBookProtocol(answer), "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    # The parent closes our stdin when it is done (or dies): then we stop.
    await loop.run_in_executor(None, sys.stdin.read)
    server.close()


# --- the contenders -----------------------------------------------------------------------


async def measure(call: Call, calls: int) -> float:
    """Client CPU seconds per call over ``calls`` sequential calls."""
    gc.collect()
    start = time.process_time()
    for _ in range(calls):
        await call()
    return (time.process_time() - start) / calls


async def run(base_url: str, rounds: int, calls: int) -> dict[str, list[float]]:
    url = base_url + PATH
    async with AsyncExitStack() as stack:
        httpx_client = await stack.enter_async_context(httpx.AsyncClient())
        transport = AiohttpTransport()
        httpx_aiohttp = await stack.enter_async_context(httpx.AsyncClient(transport=transport))
        prebuilt = httpx_aiohttp.build_request("GET", url)
        raw_aiohttp = await stack.enter_async_context(aiohttp.ClientSession())
        unlimited = RateLimitPolicy.unlimited()
        kf_httpx = await stack.enter_async_context(
            Session(base_url=base_url, rate_limits=unlimited, transport=httpx.AsyncHTTPTransport())
        )
        kf_aiohttp = await stack.enter_async_context(
            Session(base_url=base_url, rate_limits=unlimited, transport=AiohttpTransport())
        )

        async def call_httpx() -> object:
            return (await httpx_client.get(url)).content

        async def call_httpx_aiohttp() -> object:
            return (await httpx_aiohttp.get(url)).content

        async def call_transport() -> object:
            return await transport.handle_async_request(prebuilt)

        async def call_aiohttp() -> object:
            async with raw_aiohttp.get(url) as response:
                return await response.read()

        async def call_kf_httpx() -> object:
            return await kf_httpx.market.orderbook(SYMBOL)

        async def call_kf_aiohttp() -> object:
            return await kf_aiohttp.market.orderbook(SYMBOL)

        contenders: dict[str, Call] = {
            "httpx.AsyncClient (httpcore pool)": call_httpx,
            "httpx.AsyncClient + AiohttpTransport": call_httpx_aiohttp,
            "AiohttpTransport alone, prebuilt request": call_transport,
            "raw aiohttp.ClientSession": call_aiohttp,
            "Session.market.orderbook, httpcore": call_kf_httpx,
            "Session.market.orderbook, AiohttpTransport": call_kf_aiohttp,
        }
        for call in contenders.values():  # warm up: connections, caches, hooks
            await measure(call, max(10, calls // 10))
        results: dict[str, list[float]] = {name: [] for name in contenders}
        names = list(contenders)
        for round_number in range(rounds):
            shift = round_number % len(names)
            for name in names[shift:] + names[:shift]:
                results[name].append(await measure(contenders[name], calls))
        return results


def table(results: dict[str, list[float]]) -> str:
    medians = {name: statistics.median(values) for name, values in results.items()}
    raw = medians["raw aiohttp.ClientSession"]
    own_transport = {
        "Session.market.orderbook, httpcore": medians["httpx.AsyncClient (httpcore pool)"],
        "Session.market.orderbook, AiohttpTransport": medians[
            "httpx.AsyncClient + AiohttpTransport"
        ],
    }
    lines = [
        "| client | median CPU/call (us) | min (us) | x raw aiohttp | x same transport, raw |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, median in medians.items():
        over_own = f"{median / own_transport[name]:.2f}" if name in own_transport else ""
        lines.append(
            f"| {name} | {median * 1e6:.0f} | {min(results[name]) * 1e6:.0f} "
            f"| {median / raw:.2f} | {over_own} |"
        )
    return "\n".join(lines)


def measure_transports(rounds: int, calls: int) -> dict[str, list[float]]:
    """Start the order-book server in a child process and run every contender against it."""
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        return asyncio.run(run(f"http://127.0.0.1:{port}", rounds, calls))
    finally:
        assert server.stdin is not None
        server.stdin.close()
        server.wait(timeout=10)
        if server.stdout is not None:
            server.stdout.close()


def main() -> None:
    if sys.argv[1:] == ["--serve"]:
        asyncio.run(_serve())
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args()
    started = time.perf_counter()
    results = measure_transports(args.rounds, args.calls)
    elapsed = time.perf_counter() - started
    print(
        f"{args.rounds} interleaved rounds x {args.calls} sequential calls per client, "
        f"{len(order_book_json())}-byte order book, {elapsed:.0f} s\n"
    )
    print(table(results))
    print(
        "\nRaw clients read the body bytes; Session calls also parse the JSON into models, so "
        "the last column (Session over the plain httpx client on the same transport) includes "
        "parsing. 'AiohttpTransport alone' skips httpx.AsyncClient (URL merging, cookies, "
        "auth flow): the gap to the row above it is httpx's own cost."
    )


if __name__ == "__main__":
    main()
