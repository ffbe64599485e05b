"""A whole trading session logged at DEBUG: the secret and every Authent stay out of it.

The session trades against a twin failing about a fifth of its requests, so every kind of
event is logged: requests, retries, reconciliation of lost answers, the tracker's polls and
the dead man's switch. Refusals for a wrong secret and a read-only key are provoked too.
Then every log record (message, arguments, traceback), every repr of the objects a caller
holds and every exception (message, args, payload, chained causes) is searched for the API
secret, in each form it exists in, and for every ``Authent`` header the transport carried.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import random
import traceback
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from kraken_futures_async import (
    AuthenticationError,
    Credentials,
    KrakenFuturesError,
    RateLimitPolicy,
    Session,
)
from kraken_futures_async.retry import OrderSafety
from kraken_futures_async.simulator import Permissions

from .test_safety_orders import retry_policy
from .test_safety_support import RecordingTransport, client_timeout, faulty_twin, order_arguments
from .virtual_clock import run_virtual

SEED = 42


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def texts_of(record: logging.LogRecord) -> Iterator[str]:
    yield record.getMessage()
    yield repr(record.args)
    yield logging.Formatter().format(record)
    if record.exc_info and record.exc_info[1] is not None:
        yield "".join(traceback.format_exception(record.exc_info[1]))


def texts_of_error(error: BaseException) -> Iterator[str]:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield str(current)
        yield repr(current)
        yield repr(current.args)
        yield "".join(traceback.format_exception(current))
        for name in ("payload", "result", "message", "code"):
            yield repr(getattr(current, name, None))
        current = current.__cause__ or current.__context__


def test_debug_logs_reprs_and_errors_never_show_the_secret_or_an_authent() -> None:
    twin, ledger = faulty_twin(seed=SEED)
    transport = RecordingTransport(twin)
    capture = Capture()
    package = logging.getLogger("kraken_futures_async")
    root = logging.getLogger()
    saved = package.level, root.level
    package.setLevel(logging.DEBUG)
    root.setLevel(logging.DEBUG)
    root.addHandler(capture)
    errors: list[BaseException] = []
    held: list[Any] = []

    async def trading_session() -> None:
        session = twin.session(
            retry=retry_policy(SEED),
            order_safety=OrderSafety(process_before=10.0, patience=300.0),
            timeout=client_timeout(5.0),
            transport=transport,
        )
        held.append(session)
        async with session as kf:
            held.append(await kf.track_orders(interval=5.0))
            held.append(await kf.dead_mans_switch(cancel_after=60, interval=20.0))
            rng = random.Random(SEED)
            for index in range(80):
                try:
                    result = await kf.orders.send(**order_arguments(rng, ledger, index))
                    held.append(result)
                    if result.order_id and index % 3 == 0:
                        held.append(await kf.orders.cancel(order_id=result.order_id))
                except KrakenFuturesError as exc:
                    errors.append(exc)
                held.append(await kf.orders.open())
                await asyncio.sleep(0.5)
            held.extend([await kf.account.accounts(), kf.limiter, kf.order_safety])
            held.append(held[1].snapshot())
        # refusals: a key signed with the wrong secret, a read-only key trading (no faults, so
        # each refusal is the exchange's own answer whatever the seeded dice did before)
        twin.faults.clear()
        wrong = Credentials(twin.key.public_key, base64.b64encode(b"w" * 64).decode())
        reader = twin.issue_key(permissions=Permissions.read_only())
        for creds in (wrong, twin.credentials(reader)):
            held.append(creds)
            async with Session(
                creds,
                base_url="http://127.0.0.1",
                transport=transport,
                rate_limits=RateLimitPolicy.unlimited(),
                retry=retry_policy(SEED),
            ) as other:
                try:
                    await other.orders.cancel_all()
                except KrakenFuturesError as exc:
                    errors.append(exc)

    try:
        run_virtual(trading_session)
    finally:
        root.removeHandler(capture)
        package.setLevel(saved[0])
        root.setLevel(saved[1])

    secrets = [twin.key.secret, repr(twin.key.secret_bytes), twin.key.secret_bytes.hex()]
    secrets += [base64.b64encode(b"w" * 64).decode(), repr(b"w" * 64)]
    authents = set(transport.authents)
    assert len(authents) > 200
    needles = [*secrets, *authents]

    def leaks(text: str) -> list[str]:
        return [n[:12] for n in needles if n in text]

    for record in capture.records:
        for text in texts_of(record):
            assert not leaks(text), (record.name, record.getMessage())
    for obj in [*held, twin, twin.key, transport]:
        assert not leaks(repr(obj)), type(obj)
    for error in errors:
        for text in texts_of_error(error):
            assert not leaks(text), type(error)

    # and the session really was eventful, with each kind of event logged
    assert sum(isinstance(e, AuthenticationError) for e in errors) == 2
    messages = [r.getMessage() for r in capture.records if r.name.startswith("kraken_futures")]
    levels = {r.levelno for r in capture.records if r.name.startswith("kraken_futures")}
    assert {logging.DEBUG, logging.INFO} <= levels
    assert any(" /derivatives/api/v3/sendorder -> 200" in m for m in messages)
    assert any("retrying in" in m for m in messages)
    assert any("answer lost" in m for m in messages)
    assert any("found on the exchange" in m or "sending it again" in m for m in messages)
    assert any("dead man's switch" in m for m in messages)
    assert sum(r.levelno == logging.DEBUG for r in capture.records) > 200
    assert Decimal(len(messages)) > 0
