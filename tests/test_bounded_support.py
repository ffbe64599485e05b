"""A hostile HTTP/1.1 server on 127.0.0.1 for the issue 17 proofs (this module holds no tests).

The server is asyncio streams and nothing else, so it can misbehave in ways a real server
framework would not allow: trickle an answer one byte at a time, stream without end, inflate
to gigabytes, nest JSON 100,000 deep, redirect. Every connection it serves is bounded by
``BOUND`` seconds, it listens on the loopback interface only, and leaving its ``async with``
block cancels whatever it still runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import zlib
from collections.abc import Awaitable, Callable, Mapping

import attrs

from .loopback import LoopbackTcpServer

__all__ = [
    "BOUND",
    "SERVER_TIME",
    "Answer",
    "HostileServer",
    "Seen",
    "gzip_bomb",
    "kraken_json",
    "plain",
    "stream_forever",
    "trickle",
    "until",
]

#: No connection of the server lives longer than this, whatever a test does.
BOUND = 10.0
SERVER_TIME = "2024-05-01T12:00:00.000Z"


@attrs.frozen
class Seen:
    """One request as it arrived."""

    method: str
    path: str
    body: bytes


#: Writes the answer to one request (the connection stays open unless the answer closes it).
Answer = Callable[[Seen, asyncio.StreamWriter], Awaitable[None]]


def _head(status: str, headers: Mapping[str, str]) -> bytes:
    lines = [f"HTTP/1.1 {status}", *(f"{key}: {value}" for key, value in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def plain(
    body: bytes,
    *,
    status: str = "200 OK",
    headers: Mapping[str, str] | None = None,
) -> Answer:
    """A complete answer with a Content-Length."""
    fields = {"Content-Type": "application/json", **(headers or {})}
    fields["Content-Length"] = str(len(body))

    async def answer(seen: Seen, writer: asyncio.StreamWriter) -> None:
        writer.write(_head(status, fields) + body)
        await writer.drain()

    return answer


def kraken_json(payload: Mapping[str, object]) -> Answer:
    """A Kraken success envelope around ``payload``."""
    body = {"result": "success", "serverTime": SERVER_TIME, **payload}
    return plain(json.dumps(body).encode())


def trickle(interval: float, *, length: int = 100_000) -> Answer:
    """A 200 whose declared body comes one byte every ``interval`` seconds."""

    async def answer(seen: Seen, writer: asyncio.StreamWriter) -> None:
        head = {"Content-Type": "application/json", "Content-Length": str(length)}
        writer.write(_head("200 OK", head) + b"{")
        await writer.drain()
        for _ in range(length - 1):
            await asyncio.sleep(interval)
            writer.write(b" ")
            await writer.drain()

    return answer


def stream_forever(*, declared: int | None = None, chunk: int = 64 * 1024) -> Answer:
    """A 200 whose body never ends: chunked, or under a (lying) huge ``declared`` length.

    Chunks are written as the client takes them, so the server itself holds one chunk.
    """
    piece = b"x" * chunk

    async def answer(seen: Seen, writer: asyncio.StreamWriter) -> None:
        head = {"Content-Type": "text/plain"}
        if declared is None:
            head["Transfer-Encoding"] = "chunked"
            frame = f"{chunk:x}\r\n".encode() + piece + b"\r\n"
        else:
            head["Content-Length"] = str(declared)
            frame = piece
        writer.write(_head("200 OK", head))
        while True:
            writer.write(frame)
            await writer.drain()

    return answer


def gzip_bomb(size: int) -> bytes:
    """``size`` zero bytes, gzip-compressed a MiB at a time (never all in memory at once)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    block = bytes(1024 * 1024)
    parts = [packer.compress(block) for _ in range(size // len(block))]
    parts.append(packer.compress(bytes(size % len(block))))
    parts.append(packer.flush())
    return b"".join(parts)


async def until(condition: Callable[[], bool], *, within: float = BOUND) -> None:
    """Return once ``condition()`` holds (checked every 20 ms); fail after ``within`` s."""
    for _ in range(int(within / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"not reached within {within} s")


async def _read_request(reader: asyncio.StreamReader) -> Seen | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, ConnectionError):
        return None
    request_line, *lines = head[:-4].decode("latin-1").split("\r\n")
    method, target, _ = request_line.split(" ", 2)
    length = 0
    for line in lines:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    body = await reader.readexactly(length) if length else b""
    return Seen(method, target.partition("?")[0], body)


class HostileServer(LoopbackTcpServer):
    """Answers each request by the first ``routes`` key its path ends with, else ``default``.

    ``routes`` and ``default`` may be changed while the server runs; ``seen`` lists every
    request in arrival order.
    """

    def __init__(self, default: Answer, routes: Mapping[str, Answer] | None = None) -> None:
        self.default = default
        self.routes = dict(routes or {})
        self.seen: list[Seen] = []
        super().__init__()

    def paths(self) -> list[str]:
        return [seen.path.rsplit("/", 1)[-1] for seen in self.seen]

    def _answer_for(self, path: str) -> Answer:
        for suffix, answer in self.routes.items():
            if path.endswith(suffix):
                return answer
        return self.default

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        try:
            async with asyncio.timeout(BOUND):
                while not writer.is_closing():
                    seen = await _read_request(reader)
                    if seen is None:
                        break
                    self.seen.append(seen)
                    await self._answer_for(seen.path)(seen, writer)
        except (asyncio.CancelledError, TimeoutError, ConnectionError):
            pass  # the client went away, the test ended, or the bound struck: end quietly
        finally:
            writer.close()
            with contextlib.suppress(OSError, asyncio.CancelledError):
                await writer.wait_closed()
            self._handlers.discard(task)
