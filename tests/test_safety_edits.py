"""Edits and cancels under the stress test's faults: the caller's belief is the book's truth.

Resting orders far from the market are placed, edited (price, and for some the size) and
half of them cancelled, with about a fifth of all requests failing. Afterwards the twin's
open orders are read with the faults switched off and compared, order by order, with what
each call told the caller; the twin's ledger shows no edit applied and no order cancelled
twice.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from decimal import Decimal

import attrs

from kraken_futures_async import OrderRejectedError, Session
from kraken_futures_async.models import CancelOrderResult, OrderRequestStatus
from kraken_futures_async.simulator import FaultKind

from .test_safety_orders import safe_session
from .test_safety_support import MARKETS, Ledger, faulty_twin, quiet_twin
from .virtual_clock import run_virtual

SEED = 11
ORDERS = 200
WORKERS = 16


@attrs.define
class Belief:
    """What the calls told the caller about one order."""

    order_id: str
    limit_price: Decimal
    size: Decimal
    open: bool = True
    edit: str = ""
    cancel: str = ""


def _tick(value: Decimal, tick: Decimal) -> Decimal:
    return (value / tick).quantize(Decimal(1)) * tick


async def _life_of_an_order(
    kf: Session, ledger: Ledger, rng: random.Random, index: int, beliefs: list[Belief]
) -> None:
    symbol = rng.choice(sorted(MARKETS))
    step, tick = MARKETS[symbol]
    side = rng.choice(("buy", "sell"))
    away = Decimal("0.95") if side == "buy" else Decimal("1.05")
    price = _tick(ledger.inner.mark_price(symbol) * away, tick)
    size = step * rng.randint(1, 10)
    placed = await kf.orders.send(
        symbol=symbol,
        side=side,
        size=size,
        limit_price=price,
        cli_ord_id=f"edit-{index:03d}",
    )
    assert placed.order_id is not None
    belief = Belief(placed.order_id, price, size)
    beliefs.append(belief)
    new_price = price - tick * rng.randint(1, 50) if side == "buy" else price + tick
    new_size = size + step if rng.random() < 0.5 else None
    try:
        edited = await kf.orders.edit(
            order_id=placed.order_id, limit_price=new_price, size=new_size
        )
    except OrderRejectedError as exc:
        belief.edit = exc.status
    else:
        assert edited.status is OrderRequestStatus.EDITED
        belief.edit = "edited"
        belief.limit_price = new_price
        belief.size = new_size or size
    if rng.random() < 0.5:
        try:
            cancelled = await kf.orders.cancel(order_id=placed.order_id)
        except OrderRejectedError as exc:
            belief.cancel = exc.status
            belief.open = exc.status not in ("notFound", "filled")
        else:
            assert cancelled.status is OrderRequestStatus.CANCELLED
            belief.cancel = "cancelled"
            belief.open = False


def test_edits_and_cancels_under_faults_leave_the_book_as_the_caller_believes() -> None:
    twin, ledger = faulty_twin(seed=SEED)
    rng = random.Random(SEED)

    async def scenario() -> tuple[
        list[Belief], list[BaseException], dict[str, tuple[Decimal, Decimal]]
    ]:
        beliefs: list[Belief] = []
        errors: list[BaseException] = []
        pending = list(range(ORDERS))
        async with safe_session(twin, SEED) as kf:
            await kf.account.accounts()

            async def worker() -> None:
                while pending:
                    try:
                        await _life_of_an_order(kf, ledger, rng, pending.pop(0), beliefs)
                    except Exception as exc:  # judged below
                        errors.append(exc)

            await asyncio.gather(*(worker() for _ in range(WORKERS)))
            twin.faults.clear()
            book = {
                o.order_id: (o.limit_price or Decimal(0), o.unfilled_size or Decimal(0))
                for o in await kf.orders.open()
            }
        return beliefs, errors, book

    (beliefs, errors, book), _ = run_virtual(scenario)
    edits = Counter(r.order_id for r in ledger.of("edit_order") if r.status == "edited")
    cancels = Counter(r.order_id for r in ledger.of("cancel_order") if r.status == "cancelled")
    faults = Counter(
        e.kind.value for e in twin.faults.events if e.operation in ("edit_order", "cancel_order")
    )
    print(
        f"\norders={len(beliefs)} edits={sum(b.edit == 'edited' for b in beliefs)} "
        f"cancels={sum(not b.open for b in beliefs)} "
        f"edit requests={len(ledger.of('edit_order'))} "
        f"cancel requests={len(ledger.of('cancel_order'))} faults={dict(faults)}"
    )
    assert errors == [], [repr(e) for e in errors]
    assert len(beliefs) == ORDERS
    for belief in beliefs:
        # an edit the caller was told about was applied exactly once; a refused one never
        assert edits[belief.order_id] == (1 if belief.edit == "edited" else 0), belief
        assert cancels[belief.order_id] == (0 if belief.open else 1), belief
        if belief.open:
            assert book.get(belief.order_id) == (belief.limit_price, belief.size), belief
        else:
            assert belief.order_id not in book, belief
    assert set(book) == {b.order_id for b in beliefs if b.open}
    assert sum(b.edit == "edited" for b in beliefs) == ORDERS
    assert sum(not b.open for b in beliefs) >= ORDERS // 3
    for kind in (
        FaultKind.DROP_BEFORE,
        FaultKind.DROP_AFTER,
        FaultKind.SERVER_ERROR,
        FaultKind.SLOW_RESPONSE,
        FaultKind.MALFORMED,
    ):
        assert faults[kind.value] >= 3, kind


def test_a_cancel_whose_answer_was_lost_long_ago_is_reported_as_done() -> None:
    """The repeat answers notFound and orders/status has forgotten the order by then."""
    twin, ledger = quiet_twin(SEED)

    async def scenario() -> CancelOrderResult:
        async with safe_session(twin, SEED) as kf:
            price = _tick(ledger.inner.mark_price("PF_XBTUSD") * Decimal("0.9"), Decimal(1))
            placed = await kf.orders.send(
                symbol="PF_XBTUSD", side="buy", size=Decimal("0.0001"), limit_price=price
            )
            assert placed.order_id is not None
            twin.faults.add(FaultKind.SLOW_RESPONSE, "cancel_order", times=1, delay=60.0)
            twin.faults.add(FaultKind.LATENCY, "order_status", delay=0.5)
            result = await kf.orders.cancel(order_id=placed.order_id)
            assert await kf.orders.open() == []
            return result

    result, _ = run_virtual(scenario)
    assert result.status is OrderRequestStatus.CANCELLED
    assert [r.status for r in ledger.of("cancel_order")] == ["cancelled", "notFound"]
