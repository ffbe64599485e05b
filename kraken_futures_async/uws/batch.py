"""``batch_order`` over the Unified WebSocket (choice 7 of :mod:`.routes`): no mixed or
atomic batch, so sends go out as ``batch_add`` per symbol, then edits one by one, then
cancels as ``batch_cancel``; results come back in the request's order."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from ..models import BatchItemResult, OrderRequestStatus
from ..operations import BatchRequest, BatchSend, CancelOrder, EditOrder
from .order_lookup import when
from .routes import BATCH_ADD_MAX, BATCH_CANCEL_MAX, amend_params, order_params

if TYPE_CHECKING:
    from .backend import UwsBackend

__all__ = ["chunks", "run_batch"]


def chunks(items: list[Any], size: int) -> list[list[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


async def run_batch(
    backend: UwsBackend, batch: BatchRequest, until: float | None
) -> list[BatchItemResult]:
    """Choice 7 of :mod:`.routes`."""
    items = batch.instructions
    results: list[BatchItemResult | None] = [None] * len(items)
    deadline = backend._deadline_param(batch, "batch_add")
    by_symbol: dict[str, list[int]] = {}
    for index, item in enumerate(items):
        if isinstance(item, BatchSend):
            by_symbol.setdefault(item.order.symbol.upper(), []).append(index)
    for symbol, indexes in by_symbol.items():
        for chunk in chunks(indexes, BATCH_ADD_MAX):
            sends = [cast(BatchSend, items[i]) for i in chunk]
            await _batch_add(backend, symbol, sends, chunk, deadline, results, until)
    for index, item in enumerate(items):
        if isinstance(item, EditOrder):
            ack = await backend._call("amend_order", amend_params(item), until)
            ok = ack.get("success") is True
            results[index] = BatchItemResult(
                status=OrderRequestStatus.EDITED if ok else backend._status(ack, "amend_order"),
                order_id=item.order_id,
                cli_ord_id=item.cli_ord_id,
                date_time_received=when(ack.get("time_in")),
            )
    cancels = [i for i, item in enumerate(items) if isinstance(item, CancelOrder)]
    for chunk in chunks(cancels, BATCH_CANCEL_MAX):
        await _batch_cancel(
            backend, [cast(CancelOrder, items[i]) for i in chunk], chunk, results, until
        )
    return [r for r in results if r is not None]


async def _batch_add(
    backend: UwsBackend,
    symbol: str,
    sends: list[BatchSend],
    indexes: list[int],
    deadline: dict[str, Any],
    results: list[BatchItemResult | None],
    until: float | None,
) -> None:
    if len(sends) == 1:
        params = order_params(sends[0].order)
        params.update(deadline)
        ack = await backend._call("add_order", params, until)
        answers: list[Any] = [ack.get("result")]
    else:
        orders = [order_params(s.order, with_symbol=False) for s in sends]
        params = {"symbol": symbol, "orders": orders, **deadline}
        ack = await backend._call("batch_add", params, until)
        listed = ack.get("result")
        answers = listed if isinstance(listed, list) else []
    ok = ack.get("success") is True
    received = when(ack.get("time_in"))
    for position, (index, send) in enumerate(zip(indexes, sends, strict=True)):
        answer = answers[position] if position < len(answers) else None
        answer = answer if isinstance(answer, dict) else {}
        results[index] = BatchItemResult(
            status=OrderRequestStatus.PLACED if ok else backend._status(ack, "batch_add"),
            order_tag=send.tag,
            order_id=answer.get("order_id") or None,
            cli_ord_id=answer.get("cl_ord_id") or send.order.cli_ord_id,
            date_time_received=received,
        )


async def _batch_cancel(
    backend: UwsBackend,
    cancels: list[CancelOrder],
    indexes: list[int],
    results: list[BatchItemResult | None],
    until: float | None,
) -> None:
    if len(cancels) == 1:
        one = cancels[0]
        params: dict[str, Any] = (
            {"order_id": [one.order_id]} if one.order_id else {"cl_ord_id": [one.cli_ord_id]}
        )
        ack = await backend._call("cancel_order", params, until)
        method = "cancel_order"
    else:
        ids = [c.order_id for c in cancels if c.order_id]
        cl_ids = [c.cli_ord_id for c in cancels if not c.order_id and c.cli_ord_id]
        params = {}
        if ids:
            params["orders"] = ids
        if cl_ids:
            params["cl_ord_id"] = cl_ids
        ack = await backend._call("batch_cancel", params, until)
        method = "batch_cancel"
    ok = ack.get("success") is True
    for index, cancel in zip(indexes, cancels, strict=True):
        results[index] = BatchItemResult(
            status=OrderRequestStatus.CANCELLED if ok else backend._status(ack, method),
            order_id=cancel.order_id,
            cli_ord_id=cancel.cli_ord_id,
            date_time_received=when(ack.get("time_in")),
        )
