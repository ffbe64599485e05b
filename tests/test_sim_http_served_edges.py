"""The served twin on a loopback port: half-sent requests are closed, refusals are JSON (issue 17).

Every socket here connects to the twin on 127.0.0.1 only; the read deadline is 0.2 s so that
each test is bounded in time, with generous bounds on how long a close may take to arrive.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from kraken_futures_async.simulator import ManualClock, RunningTwin, Twin, TwinConfig, run_in_thread
from tests.test_sim_http_fake import fake_twin, raw_client

D = "/derivatives/api/v3"
DEADLINE = 0.2


@pytest.fixture
def served() -> Iterator[RunningTwin]:
    twin, _ = fake_twin(request_read_timeout=DEADLINE, max_request_bytes=64 << 10)
    running = run_in_thread(twin, port=0)
    try:
        yield running
    finally:
        running.stop()


def _connect(running: RunningTwin) -> socket.socket:
    url = httpx.URL(running.url)
    assert url.host == "127.0.0.1"
    assert url.port is not None
    sock = socket.create_connection((url.host, url.port), timeout=5)
    return sock


def _read_until_closed(sock: socket.socket, within: float = 5.0) -> bytes:
    """Everything the twin sends until it closes the connection (fails after ``within`` s)."""
    sock.settimeout(within)
    chunks: list[bytes] = []
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _json_answer(raw: bytes) -> tuple[int, dict[str, str], dict[str, object]]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return status, headers, json.loads(body)


def test_half_sent_requests_are_closed_after_the_deadline(served: RunningTwin) -> None:
    partial_heads = [_connect(served) for _ in range(20)]
    for sock in partial_heads:
        sock.sendall(b"GET /derivatives/api/v3/tickers HTTP/1.1\r\nHost: twin\r\n")
    partial_body = _connect(served)
    partial_body.sendall(
        b"POST /derivatives/api/v3/sendorder HTTP/1.1\r\nHost: twin\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nsize=1"
    )
    silent = _connect(served)
    started = time.monotonic()
    try:
        # the twin still serves everyone else meanwhile
        answer = httpx.get(f"{served.url}{D}/tickers", timeout=5)
        assert answer.json()["result"] == "success"
        for sock in [*partial_heads, partial_body, silent]:
            assert _read_until_closed(sock) == b""  # closed, without an answer
        assert time.monotonic() - started < 5
    finally:
        for sock in [*partial_heads, partial_body, silent]:
            sock.close()


def test_a_slow_but_steady_sender_is_closed_too(served: RunningTwin) -> None:
    sock = _connect(served)
    try:
        head = b"GET /derivatives/api/v3/tickers HTTP/1.1\r\nHost: twin\r\nX-Pad: "
        sock.sendall(head)
        started = time.monotonic()
        closed = False
        while time.monotonic() - started < 5:
            try:
                sock.sendall(b"a")  # one byte now and then never completes the request
            except OSError:
                closed = True
                break
            time.sleep(DEADLINE / 4)
            sock.settimeout(0.001)
            try:
                if sock.recv(1) == b"":
                    closed = True
                    break
            except TimeoutError:
                pass
        assert closed
    finally:
        sock.close()


def test_a_whole_request_is_answered_and_keep_alive_still_works(served: RunningTwin) -> None:
    with httpx.Client(base_url=served.url, timeout=5) as client:
        for _ in range(3):
            assert client.get(f"{D}/tickers").json()["result"] == "success"
            time.sleep(DEADLINE / 2)


def test_bytes_that_are_not_http_get_a_json_400(served: RunningTwin) -> None:
    sock = _connect(served)
    try:
        sock.sendall(b"THIS IS NOT HTTP\r\n\r\n")
        status, headers, body = _json_answer(_read_until_closed(sock))
    finally:
        sock.close()
    assert status == 400
    assert headers["content-type"] == "application/json"
    assert body["status"] == "BAD_REQUEST"
    assert body["result"] == "error"


def test_an_oversized_body_is_refused_without_being_sent(served: RunningTwin) -> None:
    sock = _connect(served)
    try:
        sock.sendall(
            b"POST /derivatives/api/v3/sendorder HTTP/1.1\r\nHost: twin\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n"
            b"Content-Length: 4194304\r\n\r\na&a&"
        )  # 4 MiB announced, 4 bytes sent: the answer comes at once
        status, headers, body = _json_answer(_read_until_closed(sock))
    finally:
        sock.close()
    assert status == 413
    assert headers["content-type"] == "application/json"
    assert body["status"] == "PAYLOAD_TOO_LARGE"


def test_a_client_sending_a_whole_oversized_body_reads_its_413(served: RunningTwin) -> None:
    # the twin stops reading, uvicorn discards the rest: the sender is not reset mid-body
    with httpx.Client(base_url=served.url, timeout=10) as client:
        refused = client.post(f"{D}/sendorder", content=b"a&" * (1 << 20))
        again = client.get(f"{D}/tickers")
    assert refused.status_code == 413
    assert refused.json()["status"] == "PAYLOAD_TOO_LARGE"
    assert again.json()["result"] == "success"


async def test_unknown_charts_are_json_404s() -> None:
    twin = Twin(TwinConfig(clock=ManualClock()))
    paths = ("/api/charts/v1/nosuch", "/api/charts/v1/trade/PF_NOPE", "/api/charts/v1/x/y/1h")
    async with raw_client(twin) as client:
        for path in paths:
            answer = await client.get(path)
            assert answer.status_code == 404
            assert answer.headers["content-type"] == "application/json"
            assert answer.json()["errors"] == [{"code": 0, "message": "404 NOT_FOUND"}]
        bad = await client.get("/api/charts/v1/trade/PF_XBTUSD/7m")
    assert (bad.status_code, bad.text) == (400, "Invalid resolution")  # Kraken's own plain text


def test_a_served_twin_keeps_idle_connections_longer_than_the_clients_pool() -> None:
    """A server closing an idle connection first races the client's next request on it: an
    order sent into that race is ambiguous and costs its deadline to resolve (seen as 10 s
    sends in the round-trip benchmark before the twin kept connections 75 s)."""
    from kraken_futures_async.config import DEFAULT_LIMITS
    from kraken_futures_async.simulator.twin import _server

    server = _server(Twin(TwinConfig(seed=0)), log_config=False)
    expiry = DEFAULT_LIMITS.keepalive_expiry
    assert expiry is not None
    assert server.config.timeout_keep_alive > expiry
