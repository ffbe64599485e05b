"""Issue 17: an answer is read no further than the Session's ``max_response_bytes``, decoded.

Against the hostile loopback server, through both pools (aiohttp's, the default, and httpx's
own): a body that never ends, one that declares 200 MB, and a 64 MiB gzip bomb (64 KB on the
wire) each end in ResponseInvalidError naming the cap, after one request (an answer too large
is not asked for again), with the peak of Python allocations measured by tracemalloc held
under three times the cap. Then the bounded decoder itself, piece by piece.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import time
import tracemalloc
import zlib
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager

import httpx
import pytest

from kraken_futures_async import RateLimitPolicy, ResponseInvalidError, Session
from kraken_futures_async.rest.body import BodyTooLargeError, read_body
from kraken_futures_async.retry import RetryPolicy
from kraken_futures_async.safety import is_ambiguous

from .test_bounded_deadline import GUARD, TRANSPORTS
from .test_bounded_support import Answer, HostileServer, gzip_bomb, plain, stream_forever

CAP = 1024 * 1024
#: Peak Python allocations allowed while one call meets a hostile answer.
PEAK_BOUND = 3 * CAP
BOMB = 64 * 1024 * 1024


@contextmanager
def peak_memory() -> Iterator[list[int]]:
    """Yields a list that holds, afterwards, the peak bytes traced inside the block."""
    peak: list[int] = []
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        yield peak
        peak.append(tracemalloc.get_traced_memory()[1])
    finally:
        tracemalloc.stop()


def session(server: HostileServer, transport: str) -> Session:
    return Session(
        base_url=server.url,
        transport=TRANSPORTS[transport](),
        rate_limits=RateLimitPolicy.unlimited(),
        max_response_bytes=CAP,
    )


HOSTILE: dict[str, Answer] = {
    "endless-chunked": stream_forever(),
    "declares-200MB": stream_forever(declared=200 * 1024 * 1024),
}


@pytest.mark.parametrize("transport", sorted(TRANSPORTS))
@pytest.mark.parametrize("kind", sorted(HOSTILE))
async def test_a_huge_body_is_refused_past_the_cap(kind: str, transport: str) -> None:
    async with HostileServer(HOSTILE[kind]) as server, session(server, transport) as kf:
        started = time.monotonic()
        with peak_memory() as peak, pytest.raises(ResponseInvalidError) as caught:
            async with asyncio.timeout(GUARD):
                await kf.market.tickers()
        elapsed = time.monotonic() - started
    print(f"\n{kind} via {transport}: refused in {elapsed:.3f} s, peak {peak[0] / CAP:.2f} MiB")
    assert caught.value.max_bytes == CAP
    assert "1,048,576-byte cap" in str(caught.value)
    assert server.paths() == ["tickers"]  # not asked for again
    assert peak[0] < PEAK_BOUND


@pytest.mark.parametrize("transport", sorted(TRANSPORTS))
async def test_a_gzip_bomb_is_not_inflated_past_the_cap(transport: str) -> None:
    bomb = gzip_bomb(BOMB)
    assert len(bomb) < 100 * 1024  # 64 MiB of zeros is some 64 KB on the wire
    answer = plain(bomb, headers={"Content-Encoding": "gzip"})
    async with HostileServer(answer) as server, session(server, transport) as kf:
        with peak_memory() as peak, pytest.raises(ResponseInvalidError) as caught:
            async with asyncio.timeout(GUARD):
                await kf.market.tickers()
    print(f"\ngzip bomb via {transport}: peak {peak[0] / CAP:.2f} MiB (cap 1 MiB)")
    assert caught.value.max_bytes == CAP
    assert server.paths() == ["tickers"]
    assert peak[0] < PEAK_BOUND


@pytest.mark.parametrize("transport", sorted(TRANSPORTS))
@pytest.mark.parametrize("encoding", ["identity", "gzip", "deflate"])
async def test_answers_under_the_cap_are_read_whole(transport: str, encoding: str) -> None:
    """Nearly 1 MiB of tickers, as Kraken would send them: nothing lost to the cap."""
    tickers = [{"symbol": f"PF_T{i:05d}", "last": i} for i in range(CAP // 40)]
    raw = json.dumps({"result": "success", "tickers": tickers}).encode()
    assert CAP - 64 * 1024 < len(raw) <= CAP
    packed = {"identity": raw, "gzip": gzip.compress(raw), "deflate": zlib.compress(raw)}
    headers = {} if encoding == "identity" else {"Content-Encoding": encoding}
    answer = plain(packed[encoding], headers=headers)
    async with HostileServer(answer) as server, session(server, transport) as kf:
        got = await kf.market.tickers()
    assert [t.symbol for t in got] == [t["symbol"] for t in tickers]


async def test_the_session_asks_only_for_what_it_can_inflate_under_the_cap() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"result": "success", "tickers": []})

    async with Session(
        base_url="http://twin.test",
        transport=httpx.MockTransport(answer),
        rate_limits=RateLimitPolicy.unlimited(),
    ) as kf:
        await kf.market.tickers()
    assert seen[0].headers["Accept-Encoding"] == "gzip, deflate"


async def test_unknown_or_corrupt_encodings_are_response_invalid_errors() -> None:
    bodies = {
        "br": (b"\x1b\x00", "Content-Encoding 'br'"),
        "gzip": (b"not gzip at all", "gzip encoding is corrupt"),
    }
    for encoding, (body, message) in bodies.items():

        def answer(
            request: httpx.Request, body: bytes = body, encoding: str = encoding
        ) -> httpx.Response:
            return httpx.Response(
                200, headers={"Content-Encoding": encoding}, stream=httpx.ByteStream(body)
            )

        async with Session(
            base_url="http://twin.test",
            transport=httpx.MockTransport(answer),
            rate_limits=RateLimitPolicy.unlimited(),
            retry=RetryPolicy.never(),
        ) as kf:
            with pytest.raises(ResponseInvalidError, match=message) as caught:
                await kf.market.tickers()
        assert caught.value.max_bytes is None


def test_too_large_answers_are_not_retried_but_stay_ambiguous_for_orders() -> None:
    too_large = ResponseInvalidError("too large", max_bytes=CAP)
    garbled = ResponseInvalidError("garbled")
    policy = RetryPolicy()
    assert not policy.should_retry(too_large, idempotent=True, attempt=1)
    assert policy.should_retry(garbled, idempotent=True, attempt=1)
    # an order answered with something too large to read may still have been executed
    assert is_ambiguous(too_large)


# --- the bounded reader ---------------------------------------------------------------------


class Chunks(httpx.AsyncByteStream):
    def __init__(self, *chunks: bytes) -> None:
        self.chunks = chunks
        self.served = 0
        self.closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            self.served += 1
            yield chunk

    async def aclose(self) -> None:
        self.closed = True


def streamed(stream: Chunks, encoding: str | None = None) -> httpx.Response:
    headers = {} if encoding is None else {"Content-Encoding": encoding}
    request = httpx.Request("GET", "http://twin.test/derivatives/api/v3/tickers")
    return httpx.Response(200, headers=headers, stream=stream, request=request)


async def test_reading_stops_at_the_first_chunk_past_the_cap() -> None:
    stream = Chunks(b"a" * 600, b"b" * 600, b"c" * 600)
    with pytest.raises(BodyTooLargeError) as caught:
        await read_body(streamed(stream), 1000)
    assert caught.value.limit == 1000
    assert stream.served == 2
    assert stream.closed


async def test_exactly_the_cap_is_allowed_one_byte_more_is_not() -> None:
    raw = bytes(range(256)) * 40
    for encoding, packed in (
        (None, raw),
        ("gzip", gzip.compress(raw)),
        ("deflate", zlib.compress(raw)),
        ("deflate", zlib.compress(raw, wbits=-zlib.MAX_WBITS)),  # raw deflate, no header
        ("deflate, gzip", gzip.compress(zlib.compress(raw))),
    ):
        pieces = [packed[i : i + 97] for i in range(0, len(packed), 97)]
        response = streamed(Chunks(*pieces), encoding)
        assert await read_body(response, len(raw)) == raw, encoding
        assert response.content == raw
        with pytest.raises(BodyTooLargeError):
            await read_body(streamed(Chunks(*pieces), encoding), len(raw) - 1)


async def test_a_declared_length_is_not_trusted_the_bytes_are_counted() -> None:
    stream = Chunks(b"x" * 600, b"x" * 600, b"x" * 600)
    response = streamed(stream)
    response.headers["Content-Length"] = "10"  # a lie
    with pytest.raises(BodyTooLargeError):
        await read_body(response, 1000)
    assert stream.served == 2
    assert stream.closed


async def test_an_answer_built_already_read_is_held_to_the_cap_too() -> None:
    request = httpx.Request("GET", "http://twin.test/")
    response = httpx.Response(200, content=b"x" * 2000, request=request)
    assert await read_body(response, 2000) == b"x" * 2000
    with pytest.raises(BodyTooLargeError):
        await read_body(httpx.Response(200, content=b"x" * 2001, request=request), 2000)
