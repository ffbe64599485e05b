"""The twin's ``ohlc`` channel and stall switch on the wire, read by the tests' own client.

The client (``test_sim_uws_socket.connect``) follows the reference, not the twin's code,
and keeps every number as its wire text. Also: the served twin's banner names its socket.
"""

from __future__ import annotations

import asyncio
import re

import aiohttp
import pytest

from kraken_futures_async.simulator import RunningTwin, run_in_thread
from kraken_futures_async.simulator.__main__ import _banner
from kraken_futures_async.simulator.uws import public_url

from .test_sim_uws_socket import TIME, connect
from .test_stream_twin_support import SYMBOL, make_twin, served_twin, uws

__all__ = ["served_twin"]

NANOS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:00\.000000000Z$")
CANDLE_FIELDS = {
    "symbol",
    "open",
    "high",
    "low",
    "close",
    "trades",
    "volume",
    "vwap",
    "interval_begin",
    "interval",
    "timestamp",
}


async def test_ohlc_ack_and_snapshot_shape(served_twin: RunningTwin) -> None:
    async with connect(served_twin) as client:
        await client.frame()
        ack = await client.subscribe("ohlc", 4, symbol=[SYMBOL], interval=5, tick_type="mark")
        assert ack["success"] is True
        assert ack["req_id"] == "4"
        assert ack["result"] == {
            "channel": "ohlc",
            "symbol": SYMBOL,
            "interval": "5",
            "tick_type": "mark",
            "snapshot": True,
            "warnings": [],
        }
        snapshot = await client.frame()
        assert (snapshot["channel"], snapshot["type"]) == ("ohlc", "snapshot")
        assert TIME.match(snapshot["timestamp"])
        (candle,) = snapshot["data"]
        assert set(candle) == CANDLE_FIELDS
        assert (candle["symbol"], candle["interval"]) == (SYMBOL, "5")
        assert NANOS.match(candle["interval_begin"])
        assert int(candle["interval_begin"][14:16]) % 5 == 0
        # mark candles: a tenth of PF_XBTUSD's whole-dollar tick, no volume or trades
        assert re.fullmatch(r"\d+\.\d", candle["open"])
        assert (candle["trades"], candle["volume"]) == ("0", "0.0000")

        # the defaults: 1 minute, trade prices
        ack_default = await client.subscribe("ohlc", 5, symbol=["PF_ETHUSD"])
        assert ack_default["result"]["interval"] == "1"
        assert ack_default["result"]["tick_type"] == "trade"


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"interval": 2}, "EGeneral:Invalid arguments:interval"),
        ({"interval": "5"}, "EGeneral:Invalid arguments:interval"),
        ({"tick_type": "index"}, "EGeneral:Invalid arguments:tick_type"),
        ({"depth": 10}, "Unsupported field: 'depth'"),
    ],
)
async def test_ohlc_refusals(
    served_twin: RunningTwin, params: dict[str, object], error: str
) -> None:
    async with connect(served_twin) as client:
        await client.frame()
        ack = await client.subscribe("ohlc", 9, symbol=[SYMBOL], **params)
        assert (ack["success"], ack["error"]) == (False, error)
    async with connect(served_twin) as client:
        await client.frame()
        unknown = await client.subscribe("ohlc", 9, symbol=["PF_NOPE"], interval=5)
        assert unknown["error"] == "Currency pair not supported PF_NOPE"


async def test_ohlc_snapshot_of_several_candles_and_unsubscribe() -> None:
    running = run_in_thread(make_twin(ohlc_snapshot=3), port=0)
    try:
        async with connect(running) as client:
            await client.frame()
            await client.subscribe("ohlc", symbol=[SYMBOL], interval=15)
            candles = (await client.frame())["data"]
            assert len(candles) == 3
            begins = [c["interval_begin"] for c in candles]
            assert begins == sorted(begins)
            assert [int(b[14:16]) % 15 for b in begins] == [0, 0, 0]
            await client.request(
                "unsubscribe", 2, channel="ohlc", asset_class="derivatives", symbol=[SYMBOL]
            )
            ack = await client.frame()
            assert (ack["method"], ack["success"], ack["result"]["interval"]) == (
                "unsubscribe",
                True,
                "15",
            )
            assert uws(running).feed.candles == {}
    finally:
        running.stop()


async def test_a_stalled_socket_stays_open_and_says_nothing(served_twin: RunningTwin) -> None:
    server = uws(served_twin)
    async with connect(served_twin) as client:
        await client.frame()
        await client.subscribe("ticker", symbol=[SYMBOL], snapshot=False)
        assert await client.frame(1.0, heartbeats=True) == {"channel": "heartbeat"}
        server.stall_connections()
        await asyncio.sleep(0.1)
        await client.send({"method": "ping", "req_id": 1})
        with pytest.raises(TimeoutError):  # no pong, no heartbeat (0.2 s apart), no close
            await client.raw(1.0)
        assert not client.ws.closed
        (stalled,) = server.connections
        assert stalled.stalled
        async with connect(served_twin) as other:  # a new connection is served as usual
            assert (await other.frame())["channel"] == "status"
            await other.send({"method": "ping", "req_id": 2})
            assert (await other.frame())["method"] == "pong"
        server.disconnect_all()  # a close still goes out on a stalled socket
        closed = await client.raw()
        assert (closed.type, closed.data) == (aiohttp.WSMsgType.CLOSE, 1001)


def test_public_url_and_the_banner(served_twin: RunningTwin) -> None:
    assert public_url("http://127.0.0.1:8080") == "ws://127.0.0.1:8080/v2/public"
    assert public_url("https://example.test/") == "wss://example.test/v2/public"
    with pytest.raises(ValueError, match="scheme"):
        public_url("127.0.0.1:8080")
    banner = _banner(served_twin.twin, served_twin.url)
    port = served_twin.url.rsplit(":", 1)[1]
    assert f"ws://127.0.0.1:{port}/v2/public" in banner
    assert served_twin.url in banner.splitlines()[0]
