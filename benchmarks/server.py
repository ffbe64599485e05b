"""The exchange twin under uvicorn in a process of its own, with a small control panel.

    python -m benchmarks.server        # prints its base URL, serves until stdin closes

Everything under ``/_bench/`` is for the benchmark driver, never for a client under test:

* ``POST /_bench/key``: a fresh API key (its own rate-limit bucket) on the twin's account;
* ``POST /_bench/latency?seconds=S&route=R``: every request to operation ``R`` (``*`` for all)
  waits ``S`` seconds inside the server (0 removes the delay);
* ``POST /_bench/limits?on=0|1``: meter Kraken's budgets, or admit everything;
* ``GET /_bench/meter``: units admitted and calls refused so far, and the server's CPU time.
"""

from __future__ import annotations

import asyncio
import json
import socket
import sys
import time
from typing import Any
from urllib.parse import parse_qs

import uvicorn

from kraken_futures_async.simulator import FaultKind, FaultRule, Twin, TwinConfig
from kraken_futures_async.simulator.twin import KEEP_ALIVE

Scope = dict[str, Any]
Message = dict[str, Any]


class ControlledTwin:
    """The twin's ASGI app, with the control routes in front of it."""

    def __init__(self, twin: Twin) -> None:
        self.twin = twin
        self._latency: FaultRule | None = None

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/_bench/"):
            body = self._control(scope["method"], scope["path"], scope["query_string"].decode())
            payload = json.dumps(body).encode()
            headers = [(b"content-type", b"application/json")]
            headers.append((b"content-length", str(len(payload)).encode()))
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": payload})
            return
        await self.twin.app(scope, receive, send)

    def _control(self, method: str, path: str, query: str) -> dict[str, Any]:
        args = {k: v[0] for k, v in parse_qs(query).items()}
        twin = self.twin
        if method == "POST" and path == "/_bench/key":
            key = twin.issue_key()
            return {"key": key.public_key, "secret": key.secret}
        if method == "POST" and path == "/_bench/latency":
            if self._latency is not None:
                twin.faults.remove(self._latency)
                self._latency = None
            seconds = float(args.get("seconds", "0"))
            if seconds > 0:
                self._latency = twin.faults.add(
                    FaultKind.LATENCY, args.get("route", "*"), delay=seconds
                )
            return {"latency": seconds}
        if method == "POST" and path == "/_bench/limits":
            twin.meter.enabled = args.get("on", "1") == "1"
            return {"limits": twin.meter.enabled}
        if method == "GET" and path == "/_bench/meter":
            return {
                "admitted": sum(twin.meter.admitted.values()),
                "refused": sum(twin.meter.refused.values()),
                "cpu": time.process_time(),
            }
        return {"error": f"no control {method} {path}"}


def _bind() -> socket.socket:
    # IPPROTO_TCP so that asyncio and uvloop switch Nagle off on accepted connections.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(2048)
    return sock


async def _serve() -> None:
    twin = Twin(TwinConfig(seed=0))
    sock = _bind()
    config = uvicorn.Config(
        ControlledTwin(twin),
        lifespan="on",
        timeout_keep_alive=KEEP_ALIVE,
        access_log=False,
        log_level="warning",
        log_config=None,
        timeout_graceful_shutdown=1,
        backlog=2048,
    )
    server = uvicorn.Server(config)
    host, port = sock.getsockname()[:2]
    print(json.dumps({"url": f"http://{host}:{port}", "loop": _loop_name()}), flush=True)
    serving = asyncio.ensure_future(server.serve(sockets=[sock]))
    # The driver closes our stdin when it is done (or dies): then we stop.
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    server.should_exit = True
    await serving


def _loop_name() -> str:
    return type(asyncio.get_running_loop()).__module__.split(".")[0]


def main() -> None:
    try:
        import uvloop
    except ImportError:
        asyncio.run(_serve())
    else:  # what uvicorn itself would pick ("auto")
        uvloop.run(_serve())


if __name__ == "__main__":
    main()
