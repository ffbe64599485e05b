"""``result: "success"`` is not the end of it: order statuses decide (reference §5.3-§5.5).

A refused order raises :class:`OrderRejectedError` carrying the status verbatim, the
structured result (with its order events) and the ids; a success returns the model.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import httpx
import pytest

from kraken_futures_async import (
    Credentials,
    OrderRejectedError,
    RateLimitPolicy,
    ResponseInvalidError,
    Session,
)
from kraken_futures_async.models import (
    CancelAllResult,
    CancelOrderResult,
    EditEvent,
    EditOrderResult,
    ExecutionEvent,
    OrderRequestStatus,
    PlaceEvent,
    RejectEvent,
    SendOrderResult,
    UnknownOrderEvent,
)
from kraken_futures_async.rest.endpoints import endpoint
from kraken_futures_async.retry import RetryPolicy
from tests.conftest import BASE_URL
from tests.rest_access import rest

ORDER_ID = "abababab-cdcd-4efe-8a8a-121212121212"
CLI_ORD_ID = "mm-0001"
RECEIVED = "2024-05-01T12:00:03.999Z"

Call = Callable[[Session], Awaitable[Any]]


def order_json(**changes: Any) -> dict[str, Any]:
    order: dict[str, Any] = {
        "orderId": ORDER_ID,
        "cliOrdId": CLI_ORD_ID,
        "type": "post",
        "symbol": "PF_XBTUSD",
        "side": "buy",
        "quantity": 0.001,
        "filled": 0,
        "limitPrice": 70000,
        "reduceOnly": False,
        "timestamp": RECEIVED,
        "lastUpdateTimestamp": RECEIVED,
    }
    order.update(changes)
    return order


REJECT_EVENT = {
    "type": "REJECT",
    "uid": ORDER_ID,
    "reason": "POST_WOULD_EXECUTE",
    "order": order_json(),
}
PLACE_EVENT = {"type": "PLACE", "reducedQuantity": None, "order": order_json()}
EXECUTION_EVENT = {
    "type": "EXECUTION",
    "executionId": "11111111-2222-4333-8444-555555555555",
    "price": 64010,
    "amount": 0.0006,
    "orderPriorEdit": None,
    "takerReducedQuantity": None,
    "orderPriorExecution": order_json(type="ioc"),
}
EDIT_EVENT = {
    "type": "EDIT",
    "reducedQuantity": None,
    "old": order_json(),
    "new": order_json(quantity=0.002),
}
CANCEL_EVENT = {"type": "CANCEL", "uid": ORDER_ID, "order": order_json()}


def envelope(key: str, status: dict[str, Any]) -> dict[str, Any]:
    return {"result": "success", "serverTime": "2024-05-01T12:00:04.000Z", key: status}


def make_session(body: dict[str, Any], credentials: Credentials) -> tuple[Session, list[str]]:
    sent: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request.url.path)
        return httpx.Response(200, text=json.dumps(body))

    session = Session(
        credentials,
        base_url=BASE_URL,
        rate_limits=RateLimitPolicy.unlimited(),
        retry=RetryPolicy.never(),
        transport=httpx.MockTransport(handler),
        check_orders=False,
    )
    return session, sent


async def run(body: dict[str, Any], credentials: Credentials, call: Call) -> Any:
    session, sent = make_session(body, credentials)
    async with session as kf:
        result = await call(kf)
    assert len(sent) == 1
    return result


async def rejected(
    body: dict[str, Any], credentials: Credentials, call: Call
) -> OrderRejectedError:
    session, sent = make_session(body, credentials)
    async with session as kf:
        with pytest.raises(OrderRejectedError) as info:
            await call(kf)
    assert len(sent) == 1
    return info.value


async def send(kf: Session) -> SendOrderResult:
    # A caller-given deadline: the Session never moves it, so one answer means one request.
    return await kf.orders.send(
        symbol="PF_XBTUSD",
        side="buy",
        size="0.001",
        order_type="post",
        limit_price=70000,
        process_before=dt.datetime(2030, 1, 1, tzinfo=dt.UTC),
    )


async def send_through_pipeline(kf: Session) -> Any:
    """The bare request path, below ``orders.send``'s reconciliation of unreadable answers."""
    params = [("orderType", "post"), ("symbol", "PF_XBTUSD"), ("side", "buy"), ("size", "1")]
    return await rest(kf).call(endpoint("send_order"), params)


async def edit(kf: Session) -> EditOrderResult:
    # As for send: with the caller's own deadline a late refusal is final, so one request.
    return await kf.orders.edit(
        order_id=ORDER_ID, size="0.002", process_before=dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    )


async def cancel(kf: Session) -> CancelOrderResult:
    return await kf.orders.cancel(order_id=ORDER_ID)


async def cancel_all(kf: Session) -> CancelAllResult:
    return await kf.orders.cancel_all()


# §5.3: the spec's sendStatus enum, plus the three statuses only its prose names
SEND_SUCCESS = ["placed", "partiallyFilled", "filled"]
SEND_REJECTIONS = [
    "cancelled",
    "edited",
    "marketSuspended",
    "marketInactive",
    "invalidPrice",
    "invalidSize",
    "tooManySmallOrders",
    "insufficientAvailableFunds",
    "wouldCauseLiquidation",
    "clientOrderIdAlreadyExist",
    "clientOrderIdTooBig",
    "maxPositionViolation",
    "outsidePriceCollar",
    "wouldIncreasePriceDislocation",
    "notFound",
    "orderForEditNotAStop",
    "orderForEditNotFound",
    "postWouldExecute",
    "iocWouldNotExecute",
    "selfFill",
    "wouldNotReducePosition",
    "marketIsPostOnly",
    "tooManyOrders",
    "fixedLeverageTooHigh",
    "clientOrderIdInvalid",
    "cannotEditTriggerPriceOfTrailingStop",
    "cannotEditLimitPriceOfTrailingStop",
    "wouldProcessAfterSpecifiedTime",
    "invalidOrderType",
    "invalidSide",
    "clientOrderIdTooLong",
]
# §5.4: the spec's 11 editStatus values, plus three a client must still accept
EDIT_REJECTIONS = [
    "invalidSize",
    "invalidPrice",
    "insufficientAvailableFunds",
    "selfFill",
    "tooManySmallOrders",
    "outsidePriceCollar",
    "postWouldExecute",
    "wouldNotReducePosition",
    "orderForEditNotFound",
    "orderForEditNotAStop",
    "cannotEditTriggerPriceOfTrailingStop",
    "cannotEditLimitPriceOfTrailingStop",
    "wouldProcessAfterSpecifiedTime",
]


def test_status_lists_cover_the_enum() -> None:
    known = {member.value for member in OrderRequestStatus}
    assert set(SEND_SUCCESS + SEND_REJECTIONS + EDIT_REJECTIONS) <= known
    assert len(SEND_SUCCESS) + len(SEND_REJECTIONS) == 34


@pytest.mark.parametrize("status", SEND_REJECTIONS)
async def test_send_rejection_raises_with_result(credentials: Credentials, status: str) -> None:
    body = envelope(
        "sendStatus",
        {
            "order_id": ORDER_ID,
            "cliOrdId": CLI_ORD_ID,
            "status": status,
            "receivedTime": RECEIVED,
            "orderEvents": [REJECT_EVENT],
        },
    )
    exc = await rejected(body, credentials, send)
    assert exc.status == status
    assert exc.code == status
    assert exc.endpoint == "send_order"
    assert exc.retry_safe is False
    assert exc.order_id == ORDER_ID
    assert exc.cli_ord_id == CLI_ORD_ID
    assert status in str(exc)
    result = exc.result
    assert isinstance(result, SendOrderResult)
    assert result.status.value == status
    assert result.order_id == ORDER_ID
    (event,) = result.order_events
    assert isinstance(event, RejectEvent)
    assert event.reason == "POST_WOULD_EXECUTE"
    assert event.order is not None
    assert event.order.limit_price == Decimal("70000")


async def test_send_rejection_without_ids_or_events(credentials: Credentials) -> None:
    body = envelope(
        "sendStatus", {"status": "insufficientAvailableFunds", "receivedTime": RECEIVED}
    )
    exc = await rejected(body, credentials, send)
    assert exc.status == "insufficientAvailableFunds"
    assert exc.order_id is None
    assert exc.cli_ord_id is None
    assert isinstance(exc.result, SendOrderResult)
    assert exc.result.status is OrderRequestStatus.INSUFFICIENT_AVAILABLE_FUNDS
    assert exc.result.order_events == ()


@pytest.mark.parametrize("status", SEND_SUCCESS)
async def test_send_success_returns_the_model(credentials: Credentials, status: str) -> None:
    events = [PLACE_EVENT] if status == "placed" else [EXECUTION_EVENT]
    body = envelope(
        "sendStatus",
        {
            "order_id": ORDER_ID,
            "cliOrdId": CLI_ORD_ID,
            "status": status,
            "receivedTime": RECEIVED,
            "orderEvents": events,
        },
    )
    result = await run(body, credentials, send)
    assert isinstance(result, SendOrderResult)
    assert result.status.value == status
    assert result.order_id == ORDER_ID
    assert result.cli_ord_id == CLI_ORD_ID
    if status == "placed":
        assert isinstance(result.order_events[0], PlaceEvent)
    else:
        assert result.filled_size == Decimal("0.0006")
        assert isinstance(result.order_events[0], ExecutionEvent)


async def test_unknown_send_status_raises_and_reads_as_unknown(credentials: Credentials) -> None:
    body = envelope(
        "sendStatus",
        {"order_id": ORDER_ID, "status": "someFutureStatus", "receivedTime": RECEIVED},
    )
    exc = await rejected(body, credentials, send)
    assert exc.status == "someFutureStatus"
    assert isinstance(exc.result, SendOrderResult)
    assert exc.result.status is OrderRequestStatus.UNKNOWN


async def test_unknown_event_type_is_kept_raw(credentials: Credentials) -> None:
    odd = {"type": "MOVE_TO_MOON", "uid": ORDER_ID, "extra": [1, 2]}
    body = envelope(
        "sendStatus",
        {"order_id": ORDER_ID, "status": "placed", "receivedTime": RECEIVED, "orderEvents": [odd]},
    )
    result = await run(body, credentials, send)
    (event,) = result.order_events
    assert isinstance(event, UnknownOrderEvent)
    assert event.type == "MOVE_TO_MOON"
    assert event.raw["extra"] == [1, 2]


@pytest.mark.parametrize("status", EDIT_REJECTIONS)
async def test_edit_rejection_raises_with_result(credentials: Credentials, status: str) -> None:
    body = envelope(
        "editStatus",
        {
            "status": status,
            "orderId": ORDER_ID,
            "cliOrdId": CLI_ORD_ID,
            "receivedTime": RECEIVED,
            "orderEvents": [],
        },
    )
    exc = await rejected(body, credentials, edit)
    assert exc.status == status
    assert exc.endpoint == "edit_order"
    assert exc.order_id == ORDER_ID
    assert exc.cli_ord_id == CLI_ORD_ID
    assert isinstance(exc.result, EditOrderResult)
    assert exc.result.status.value == status


async def test_edit_success_returns_the_model(credentials: Credentials) -> None:
    body = envelope(
        "editStatus",
        {
            "status": "edited",
            "orderId": ORDER_ID,
            "receivedTime": RECEIVED,
            "orderEvents": [EDIT_EVENT],
        },
    )
    result = await run(body, credentials, edit)
    assert isinstance(result, EditOrderResult)
    assert result.status is OrderRequestStatus.EDITED
    assert result.order_id == ORDER_ID
    (event,) = result.order_events
    assert isinstance(event, EditEvent)
    assert event.new.quantity == Decimal("0.002")


async def test_unknown_edit_status_raises(credentials: Credentials) -> None:
    body = envelope("editStatus", {"status": "editedSortOf", "orderId": ORDER_ID})
    exc = await rejected(body, credentials, edit)
    assert exc.status == "editedSortOf"
    assert isinstance(exc.result, EditOrderResult)
    assert exc.result.status is OrderRequestStatus.UNKNOWN


@pytest.mark.parametrize("status", ["notFound", "filled"])
async def test_cancel_rejection_raises(credentials: Credentials, status: str) -> None:
    body = envelope(
        "cancelStatus",
        {"status": status, "order_id": ORDER_ID, "receivedTime": RECEIVED},
    )
    exc = await rejected(body, credentials, cancel)
    assert exc.status == status
    assert exc.endpoint == "cancel_order"
    assert exc.order_id == ORDER_ID
    assert isinstance(exc.result, CancelOrderResult)
    assert exc.result.status.value == status


async def test_cancel_not_found_without_order_id(credentials: Credentials) -> None:
    body = envelope("cancelStatus", {"status": "notFound", "receivedTime": RECEIVED})
    exc = await rejected(body, credentials, cancel)
    assert exc.status == "notFound"
    assert exc.order_id is None


async def test_cancel_success_returns_the_model(credentials: Credentials) -> None:
    body = envelope(
        "cancelStatus",
        {
            "status": "cancelled",
            "order_id": ORDER_ID,
            "cliOrdId": CLI_ORD_ID,
            "receivedTime": RECEIVED,
            "orderEvents": [CANCEL_EVENT],
        },
    )
    result = await run(body, credentials, cancel)
    assert isinstance(result, CancelOrderResult)
    assert result.status is OrderRequestStatus.CANCELLED
    assert result.cli_ord_id == CLI_ORD_ID


@pytest.mark.parametrize("status", ["cancelled", "noOrdersToCancel"])
async def test_cancel_all_successes(credentials: Credentials, status: str) -> None:
    body = envelope(
        "cancelStatus",
        {
            "status": status,
            "cancelOnly": "all",
            "cancelledOrders": [{"order_id": ORDER_ID}] if status == "cancelled" else [],
            "receivedTime": RECEIVED,
            "orderEvents": [],
        },
    )
    result = await run(body, credentials, cancel_all)
    assert isinstance(result, CancelAllResult)
    assert result.status.value == status


async def test_cancel_all_unknown_status_raises(credentials: Credentials) -> None:
    body = envelope(
        "cancelStatus",
        {
            "status": "partlyCancelled",
            "cancelOnly": "all",
            "cancelledOrders": [],
            "receivedTime": RECEIVED,
        },
    )
    exc = await rejected(body, credentials, cancel_all)
    assert exc.status == "partlyCancelled"
    assert isinstance(exc.result, CancelAllResult)


@pytest.mark.parametrize(
    "status_value", [{"nested": "object"}, ["placed"], None, 7, True], ids=repr
)
async def test_status_of_the_wrong_type_is_an_invalid_response(
    credentials: Credentials, status_value: Any
) -> None:
    body = envelope("sendStatus", {"order_id": ORDER_ID, "status": status_value})
    session, _ = make_session(body, credentials)
    async with session as kf:
        with pytest.raises(ResponseInvalidError) as info:
            await send_through_pipeline(kf)
    assert info.value.endpoint == "send_order"


async def test_missing_status_object_is_an_invalid_response(credentials: Credentials) -> None:
    session, _ = make_session({"result": "success", "serverTime": RECEIVED}, credentials)
    async with session as kf:
        with pytest.raises(ResponseInvalidError) as info:
            await send_through_pipeline(kf)
    assert "sendStatus" in str(info.value)
