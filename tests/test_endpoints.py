"""Every row of the endpoint table on the wire, answered with Kraken's own example payloads.

Each case calls a resource method on a real Session over respx and checks what was sent
(method, path, query or form body byte for byte, auth headers exactly where they belong) and
what came back, structured by the strict converter that refuses unmodelled keys. Answers come
from the OpenAPI examples where the spec has one; otherwise from the reference
(``kraken-futures-api.md`` Appendix A or the §4 shapes), as each case's ``source`` says.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import json
import re
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, quote_plus

import httpx
import pytest
import respx

from kraken_futures_async import (
    Credentials,
    OrderRejectedError,
    OrderType,
    RateLimitPolicy,
    Session,
    Side,
)
from kraken_futures_async.converter import strict_converter
from kraken_futures_async.models import (
    Accounts,
    BatchItemResult,
    CancelAllResult,
    CancelEvent,
    CancelledOrderId,
    CancelOrderResult,
    CandlePage,
    DeadManSwitchStatus,
    EditEvent,
    EditOrderResult,
    ExecutionEvent,
    Fill,
    FillType,
    Instrument,
    MarginLevel,
    MarginRequirements,
    OpenOrder,
    OpenPosition,
    OrderBook,
    OrderRequestStatus,
    OrderStatus,
    PlaceEvent,
    PositionSide,
    PriceLevel,
    PriceTriggerOptions,
    PublicTrade,
    RejectEvent,
    SendOrderResult,
    Ticker,
)
from kraken_futures_async.resources.orders import BatchOrder
from kraken_futures_async.rest.endpoints import ENDPOINTS, Access, Endpoint, ParamsIn, endpoint
from kraken_futures_async.rest.signing import endpoint_path, sign
from tests import openapi_spec as spec
from tests.conftest import BASE_URL, TEST_KEY, TEST_SECRET

D = Decimal
_AUTH_HEADERS = ("APIKey", "Authent", "Nonce")


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, us: int = 0
) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, second, us, tzinfo=dt.UTC)


@dataclasses.dataclass(frozen=True)
class Case:
    id: str
    #: The endpoint-table row the call goes through.
    endpoint: str
    call: Callable[[Session], Awaitable[Any]]
    #: The concrete path sent.
    path: str
    #: The query string (GET) or form body (POST), exactly as sent.
    sent: str
    #: The JSON text the mock answers with.
    answer: str
    #: Where ``answer`` comes from.
    source: str
    check: Callable[[Any], None]
    #: Whether ``answer`` matches the spec's response schema (see ``why_not_spec_valid``).
    spec_valid: bool = True
    why_not_spec_valid: str = ""


def from_spec(operation_id: str, name: str | None = None) -> dict[str, Any]:
    """Case fields for an answer that is the spec's own example."""
    found = spec.examples(operation_id)
    name = name if name is not None else next(iter(found))
    fault = spec.KNOWN_EXAMPLE_FAULTS.get((operation_id, name), "")
    return {
        "answer": json.dumps(found[name]),
        "source": f"OpenAPI example {operation_id}/{name}",
        "spec_valid": not fault,
        "why_not_spec_valid": fault,
    }


def _schema_property(schema: Any, name: str) -> Any:
    """The first schema of property ``name`` anywhere under ``schema`` (through allOf/oneOf)."""
    if isinstance(schema, dict):
        props = schema.get("properties")
        if isinstance(props, dict) and name in props:
            return props[name]
        children: list[Any] = list(schema.values())
    elif isinstance(schema, list):
        children = schema
    else:
        return None
    for child in children:
        found = _schema_property(child, name)
        if found is not None:
            return found
    return None


def _schema_example(schema: Any) -> Any:
    """The first ``example`` under ``schema`` (depth first)."""
    if isinstance(schema, dict):
        if "example" in schema:
            return schema["example"]
        for value in schema.values():
            found = _schema_example(value)
            if found is not None:
                return found
    if isinstance(schema, list):
        for value in schema:
            found = _schema_example(value)
            if found is not None:
                return found
    return None


# --- answers that are not response examples in the spec ------------------------------------

# getOrderbook has no response example; its ``orderBook`` schema carries one. Envelope per §3.2.
ORDERBOOK_ANSWER = json.dumps(
    {
        "result": "success",
        "serverTime": "2024-05-01T12:07:00.000Z",
        "orderBook": _schema_example(
            _schema_property(spec.response_schema("getOrderbook"), "orderBook")
        ),
    }
)

# candles has no response example; each Candlestick property carries one (volume a number).
_CANDLE_PROPS = _schema_property(spec.response_schema("candles"), "candles")["items"]["properties"]
CANDLES_SPEC_ANSWER = json.dumps(
    {
        "candles": [{key: prop["example"] for key, prop in _CANDLE_PROPS.items()}],
        "more_candles": True,  # no example in the spec; true so a missing key would show
    }
)

# Reference Appendix A (market data): the recorded form, volume as a string.
CANDLES_APPENDIX_ANSWER = """{"candles":[{"time":1700000000000,"open":"36500","high":"36620",
"low":"36480","close":"36590","volume":"12.3456"}],"more_candles":false}"""

# Reference §4.1.4 shape (getHistory has no example): every documented field, then a trade
# with only the two the spec requires. ``size`` is a string as the spec types it.
TRADES_ANSWER = """{"result":"success","serverTime":"2024-05-01T12:00:00.500Z","history":[
{"time":"2024-05-01T11:59:58.441Z","trade_id":20521,"price":64006,"size":"0.002","side":"buy",
 "type":"fill","uid":"a3c5e0f2-5d1b-4c4e-9f0a-7b6c5d4e3f21",
 "instrument_identification_type":"ISIN","isin":"GB00J62YGL67","execution_venue":"KRFL",
 "price_notation":"MONE","price_currency":"USD","notional_amount":128.012,
 "notional_currency":"USD","publication_time":"2024-05-01T11:59:58.441Z",
 "publication_venue":"KRFL","transaction_identification_code":"a3c5e0f2-5d1b-4c4e-9f0a-7b6c5d4e3f21",
 "to_be_cleared":false},
{"time":"2024-05-01T11:59:57Z","price":64005.5}]}"""

# Reference Appendix A (account data): the recorded form with numeric balances.
ACCOUNTS_APPENDIX_ANSWER = """{"result":"success","serverTime":"2024-05-01T12:06:00.000Z",
"accounts":{
 "cash":{"type":"cashAccount","balances":{"usd":0,"xbt":0,"usdt":0}},
 "flex":{"type":"multiCollateralMarginAccount","currencies":{"USD":{"quantity":10000,"value":10000,
  "collateral":10000,"available":9936.2}},
  "initialMargin":63.8,"initialMarginWithOrders":63.8,"maintenanceMargin":31.9,"balanceValue":10000,
  "portfolioValue":10001.4,"collateralValue":10000,"pnl":1.4,"unrealizedFunding":0,
  "totalUnrealized":1.4,"totalUnrealizedAsMargin":1.4,"availableMargin":9937.6,
  "marginEquity":10001.4},
 "fi_xbtusd":{"type":"marginAccount","currency":"xbt","balances":{"xbt":0},
  "auxiliary":{"usd":0,"pv":0,"pnl":0,"af":0,"funding":0},
  "marginRequirements":{"im":0,"mm":0,"lt":0,"tt":0},"triggerEstimates":{"im":0,"mm":0,"lt":0,"tt":0}}}}"""

# Reference Appendix A (account data): a resting stop order.
OPEN_STOP_ORDER_ANSWER = """{"result":"success","serverTime":"2024-05-01T12:06:02.000Z",
"openOrders":[
{"order_id":"0f3e2a77-1d2b-4c6d-8e9f-3a4b5c6d7e8f","symbol":"PF_XBTUSD","side":"sell",
 "orderType":"stop","limitPrice":57900,"stopPrice":58000,"unfilledSize":0.01,"filledSize":0,
 "status":"untouched","reduceOnly":true,"triggerSignal":"mark",
 "receivedTime":"2024-05-01T12:00:01.998Z","lastUpdateTime":"2024-05-01T12:00:01.998Z"}]}"""

# Reference Appendix A (sendorder, stop order accepted as a trigger).
STOP_ORDER_ANSWER = """{"result":"success","serverTime":"2024-05-01T12:00:02.000Z",
 "sendStatus":{"order_id":"0f3e2a77-1d2b-4c6d-8e9f-3a4b5c6d7e8f","status":"placed",
 "receivedTime":"2024-05-01T12:00:01.998Z",
  "orderEvents":[{"type":"PLACE","orderTrigger":{"uid":"0f3e2a77-1d2b-4c6d-8e9f-3a4b5c6d7e8f",
   "clientId":null,"type":"lmt","symbol":"PF_XBTUSD","side":"sell","quantity":0.01,
   "limitPrice":57900,"triggerPrice":58000,"triggerSide":"trigger_below",
   "triggerSignal":"mark_price","reduceOnly":true,"timestamp":"2024-05-01T12:00:01.998Z",
   "lastUpdateTimestamp":"2024-05-01T12:00:01.998Z","startTime":null}}]}}"""

# Reference Appendix A (cancelorder, unknown order).
CANCEL_NOT_FOUND_ANSWER = """{"result":"success","serverTime":"2024-05-01T12:03:00.000Z",
"cancelStatus":{"status":"notFound","receivedTime":"2024-05-01T12:02:59.999Z"}}"""

# Reference §4.3.4 shape: nothing to cancel for one symbol.
CANCEL_ALL_NOTHING_ANSWER = """{"result":"success","serverTime":"2024-05-01T12:09:00.000Z",
"cancelStatus":{"receivedTime":"2024-05-01T12:08:59.998Z","cancelOnly":"PF_XBTUSD",
"status":"noOrdersToCancel","cancelledOrders":[],"orderEvents":[]}}"""

# Reference Appendix A (orders/status) plus a trigger order in the §4.2.5 shape.
ORDER_STATUS_ANSWER = """{"result":"success","serverTime":"2024-05-01T12:06:04.000Z","orders":[
{"order":{"type":"ORDER","orderId":"5b1d3c1e-7c0a-4f4e-9d59-2a6f0c3b9e11","cliOrdId":"mm-0001",
 "symbol":"PF_ETHUSD","side":"sell","quantity":0.3,"filled":0,"limitPrice":3560,"reduceOnly":false,
 "timestamp":"2024-05-01T12:00:00.120Z","lastUpdateTimestamp":"2024-05-01T12:00:59.998Z",
 "algoId":null,"priceTriggerOptions":null,"triggerTime":null},
 "status":"ENTERED_BOOK","updateReason":null,"error":null},
{"order":{"type":"TRIGGER_ORDER","orderId":"0f3e2a77-1d2b-4c6d-8e9f-3a4b5c6d7e8f","cliOrdId":null,
 "symbol":"PF_XBTUSD","side":"sell","quantity":0.01,"filled":null,"limitPrice":57900,
 "reduceOnly":true,"timestamp":"2024-05-01T12:00:01.998Z",
 "lastUpdateTimestamp":"2024-05-01T12:00:01.998Z","algoId":null,
 "priceTriggerOptions":{"triggerPrice":58000,"triggerSide":"TRIGGER_BELOW",
  "triggerSignal":"MARK_PRICE"},"triggerTime":null},
 "status":"TRIGGER_PLACED","updateReason":null,"error":null}]}"""

#: What the batch case sends, as JSON text: exact numbers, no spaces, ``None`` left out.
BATCH_JSON = (
    '{"batchOrder":['
    '{"order":"send","order_tag":"1","orderType":"lmt","symbol":"PI_XBTUSD","side":"buy",'
    '"size":1000,"limitPrice":9400,"cliOrdId":"b-1"},'
    '{"order":"edit","order_id":"9c2cbcc8-14f6-42fe-a020-6e395babafd1","size":1000,'
    '"limitPrice":9400},'
    '{"order":"cancel","order_id":"566942c8-a3b5-4184-a451-622b09493129"}]}'
)


# --- checks of the structured results ------------------------------------------------------


def check_tickers(result: list[Ticker]) -> None:
    assert [t.symbol for t in result] == ["PI_XBTUSD", "FI_XBTUSD_211231", "in_xbtusd", "rr_xbtusd"]
    perp = result[0]
    assert perp.tag == "perpetual"
    assert perp.pair == "XBT:USD"
    assert perp.mark_price == D("30209.9")
    assert perp.bid == D(8634)
    assert perp.ask_size == D(139984)
    assert perp.vol_24h == D(15304)
    assert perp.volume_quote == D("7305.2")
    assert perp.last_time == utc(2022, 6, 17, 10, 46, 35, 705000)
    assert perp.funding_rate == D("1.18588737106e-07")
    assert perp.change_24h == D("1.9974017538161748")
    assert perp.suspended is False
    assert perp.is_index is False
    assert result[1].ask is None  # an empty ask side has no ask
    index = result[2]
    assert index.is_index is True
    assert index.last == D(21088)
    assert index.mark_price is None


def check_ticker(result: Ticker) -> None:
    assert result.symbol == "pi_xbtusd"
    assert result.volume_quote == D("40351.34")
    assert result.open_24h == D(49289)
    assert result.last_size == D(100)
    assert result.funding_rate_prediction == D("1.1852486794e-07")
    assert result.post_only is False


def check_orderbook(result: OrderBook) -> None:
    assert result.best_bid == PriceLevel(D(40178), D(5))
    assert result.bids[1:] == (PriceLevel(D(40174), D("4.2")), PriceLevel(D(40170), D("7.2")))
    assert result.best_ask == PriceLevel(D(40186), D("5.0183"))
    assert result.asks[-1] == PriceLevel(D(40190), D("0.4183"))


def check_trades(result: list[PublicTrade]) -> None:
    full, bare = result
    assert full.time == utc(2024, 5, 1, 11, 59, 58, 441000)
    assert full.trade_id == 20521
    assert full.price == D(64006)
    assert full.size == D("0.002")
    assert full.side == "buy"
    assert full.type == "fill"
    assert full.notional_amount == D("128.012")
    assert full.publication_time == utc(2024, 5, 1, 11, 59, 58, 441000)
    assert full.to_be_cleared is False
    assert (bare.time, bare.price, bare.size, bare.trade_id) == (
        utc(2024, 5, 1, 11, 59, 57),
        D("64005.5"),
        None,
        None,
    )


def check_instruments(result: list[Instrument]) -> None:
    inverse, dated, flexible = result
    assert inverse.symbol == "PI_XBTUSD"
    assert inverse.type == "futures_inverse"
    assert inverse.underlying == "rr_xbtusd"
    assert inverse.tick_size == D("0.5")
    assert inverse.opening_date == utc(2022, 1, 1)
    assert inverse.margin_levels[1] == MarginLevel(
        contracts=500000, initial_margin=D("0.04"), maintenance_margin=D("0.02")
    )
    assert inverse.retail_margin_levels[0].initial_margin == D("0.5")
    assert inverse.funding_rate_coefficient == D(8)
    assert (inverse.tradeable, inverse.tradfi, inverse.mtf) == (True, False, True)
    assert inverse.size_step == D(1)
    assert dated.last_trading_time == utc(2022, 9, 30, 15)
    assert dated.max_relative_funding_rate is None
    assert flexible.size_step == D("0.0001")
    assert flexible.margin_levels[0].num_non_contract_units == D(0)
    assert flexible.margin_levels[0].contracts is None
    assert flexible.category == "Layer 1"
    assert flexible.tags == ()


def check_candles_spec(result: CandlePage) -> None:
    (candle,) = result.candles
    assert candle.time == utc(2021, 5, 12, 10, 56)
    assert candle.open == D("56294.00000000000")
    assert candle.high == D("56475.00000000000")
    assert candle.low == D("55935.00000000000")
    assert candle.close == D("56250.00000000000")
    assert candle.volume == D(10824)
    assert result.more_candles is True


def check_candles_appendix(result: CandlePage) -> None:
    (candle,) = result.candles
    assert candle.time == utc(2023, 11, 14, 22, 13, 20)
    assert candle.close == D(36590)
    assert candle.volume == D("12.3456")
    assert result.more_candles is False


def check_accounts_spec(result: Accounts) -> None:
    assert result.cash is not None
    assert result.cash.balances == {"xbt": D("141.31756797"), "xrp": D("52465.1254")}
    assert result.flex is not None
    assert result.flex.currencies["EUR"].available == D("4540.5837374453")
    assert result.flex.available_margin == D("34122.66")
    assert result.flex.portfolio_margin_breakdown is None
    assert set(result.margin_accounts) == {"fi_xbtusd"}
    margin = result.margin_accounts["fi_xbtusd"]
    assert margin.balances["FI_XBTUSD_180615"] == D(-15000)
    assert margin.auxiliary.pv == D("153.73891563")
    assert margin.margin_requirements == MarginRequirements(
        im=D("52.8"), mm=D("23.76"), lt=D("39.6"), tt=D("15.84")
    )
    assert margin.trigger_estimates.im == D(3110)


def check_accounts_appendix(result: Accounts) -> None:
    assert result.cash is not None
    assert result.cash.balances == {"usd": D(0), "xbt": D(0), "usdt": D(0)}
    assert result.flex is not None
    assert result.flex.currencies["USD"].available == D("9936.2")
    assert result.flex.available_margin == D("9937.6")
    assert result.margin_accounts["fi_xbtusd"].currency == "xbt"


def check_open_positions(result: list[OpenPosition]) -> None:
    short, old, flex = result
    assert short.side is PositionSide.SHORT
    assert short.signed_size == D(-10000)
    assert short.price == D("9392.749993345933")
    assert short.unrealized_funding == D("1.045432180096817e-05")
    assert short.fill_time == utc(2020, 7, 22, 14, 39, 12, 376000)
    assert old.side is PositionSide.LONG
    assert old.unrealized_funding is None
    assert flex.pnl_currency == "BTC"
    assert flex.max_fixed_leverage == D("5.0")
    assert flex.signed_size == D(1)


def check_open_orders(result: list[OpenOrder]) -> None:
    assert len(result) == 7
    first = result[0]
    assert first.order_id == "59302619-41d2-4f0b-941f-7e7914760ad3"
    assert first.side is Side.SELL
    assert (first.order_type, first.status) == ("lmt", "untouched")
    assert first.limit_price == D(10640)
    assert first.unfilled_size == D(304)
    assert first.filled_size == D(0)
    assert first.reduce_only is True
    assert first.cli_ord_id is None
    assert first.received_time == utc(2019, 9, 5, 17, 1, 17, 410000)
    assert result[1].last_update_time == utc(2019, 9, 5, 16, 47, 47, 519000)


def check_open_stop_order(result: list[OpenOrder]) -> None:
    (stop,) = result
    assert stop.order_type == "stop"
    assert stop.stop_price == D(58000)
    assert stop.limit_price == D(57900)
    assert stop.unfilled_size == D("0.01")
    assert stop.trigger_signal == "mark"


def check_fills(result: list[Fill]) -> None:
    maker, taker = result
    assert maker.fill_id == "3d57ed09-fbd6-44f1-8e8b-b10e551c5e73"
    assert maker.order_id == "693af756-055e-47ef-99d5-bcf4c456ebc5"
    assert maker.side is Side.BUY
    assert (maker.size, maker.price) == (D(5490), D(9400))
    assert maker.fill_type is FillType.MAKER
    assert maker.fill_time == utc(2020, 7, 22, 13, 37, 27, 77000)
    assert taker.fill_type is FillType.TAKER


def check_send_placed(result: SendOrderResult) -> None:
    assert result.status is OrderRequestStatus.PLACED
    assert result.order_id == "179f9af8-e45e-469d-b3e9-2fd4675cb7d0"
    assert result.received_time == utc(2019, 9, 5, 16, 33, 50, 734000)
    (event,) = result.order_events
    assert isinstance(event, PlaceEvent)
    assert event.order is not None
    assert event.order_trigger is None
    assert event.order.side is Side.BUY
    assert (event.order.quantity, event.order.filled) == (D(10000), D(0))
    assert event.order.limit_price == D(9400)
    assert event.order.cli_ord_id is None
    assert result.executions == ()


def check_send_executed(result: SendOrderResult) -> None:
    (execution,) = result.executions
    assert isinstance(execution, ExecutionEvent)
    assert execution.execution_id == "e1ec9f63-2338-4c44-b40a-43486c6732d7"
    assert (execution.price, execution.amount) == (D("7244.5"), D(10))
    assert execution.order_prior_execution.limit_price == D(7500)
    assert execution.order_prior_edit is None
    assert result.filled_size == D(10)


def check_send_rejected(result: OrderRejectedError) -> None:
    assert result.status == "iocWouldNotExecute"
    assert result.order_id == "614a5298-0071-450f-83c6-0617ce8c6bc4"
    assert isinstance(result.result, SendOrderResult)
    assert result.result.status is OrderRequestStatus.IOC_WOULD_NOT_EXECUTE
    (event,) = result.result.order_events
    assert isinstance(event, RejectEvent)
    assert event.reason == "IOC_WOULD_NOT_EXECUTE"
    assert event.order is not None
    assert event.order.reduce_only is True


def check_send_stop(result: SendOrderResult) -> None:
    (event,) = result.order_events
    assert isinstance(event, PlaceEvent)
    assert event.order is None
    trigger = event.order_trigger
    assert trigger is not None
    assert trigger.trigger_price == D(58000)
    assert trigger.limit_price == D(57900)
    assert (trigger.trigger_side, trigger.trigger_signal) == ("trigger_below", "mark_price")
    assert trigger.client_id is None
    assert trigger.start_time is None
    assert trigger.side is Side.SELL


def check_edit(result: EditOrderResult) -> None:
    assert result.status is OrderRequestStatus.EDITED
    assert result.order_id == "022774bc-2c4a-4f26-9317-436c8d85746d"
    (event,) = result.order_events
    assert isinstance(event, EditEvent)
    assert (event.old.quantity, event.old.limit_price) == (D(1000), D("9400.0"))
    assert (event.new.quantity, event.new.limit_price) == (D(1501), D(7200))
    assert event.new.last_update_timestamp == utc(2019, 9, 5, 16, 47, 47, 519000)
    assert event.reduced_quantity is None


def check_cancel(result: CancelOrderResult) -> None:
    assert result.status is OrderRequestStatus.CANCELLED
    assert result.order_id == "cb4e34f6-4eb3-4d4b-9724-4c3035b99d47"
    (event,) = result.order_events
    assert isinstance(event, CancelEvent)
    assert event.uid == "cb4e34f6-4eb3-4d4b-9724-4c3035b99d47"
    assert event.order is not None
    assert event.order.cli_ord_id == "1234568"
    assert event.order.timestamp == utc(2020, 7, 22, 13, 25, 56, 366000)


def check_cancel_not_found(result: OrderRejectedError) -> None:
    assert result.status == "notFound"
    assert isinstance(result.result, CancelOrderResult)
    assert result.result.status is OrderRequestStatus.NOT_FOUND
    assert result.result.received_time == utc(2024, 5, 1, 12, 2, 59, 999000)
    assert result.result.order_events == ()


def check_cancel_all(result: CancelAllResult) -> None:
    assert result.status is OrderRequestStatus.CANCELLED
    assert result.cancel_only == "all"
    assert result.cancelled_orders[0] == CancelledOrderId(
        order_id="6180adfa-e4b1-4a52-adac-ea5417620dbd"
    )
    assert len(result.cancelled_orders) == 3
    assert [type(e) for e in result.order_events] == [CancelEvent, CancelEvent]
    assert result.received_time == utc(2019, 8, 1, 15, 57, 37, 518000)


def check_cancel_all_nothing(result: CancelAllResult) -> None:
    assert result.status is OrderRequestStatus.NO_ORDERS_TO_CANCEL
    assert result.cancel_only == "PF_XBTUSD"
    assert result.cancelled_orders == ()


def check_dead_man_armed(result: DeadManSwitchStatus) -> None:
    assert result.current_time == utc(2018, 6, 19, 16, 51, 23, 839000)
    assert result.trigger_time == utc(2018, 6, 19, 16, 52, 23, 839000)


def check_dead_man_off(result: DeadManSwitchStatus) -> None:
    assert result.current_time == utc(2018, 6, 19, 16, 51, 23, 839000)
    assert result.trigger_time is None


def check_batch(result: list[BatchItemResult]) -> None:
    placed, edited, cancelled = result
    assert placed.status is OrderRequestStatus.PLACED
    assert (placed.order_tag, placed.ok) == ("1", True)
    assert placed.order_id == "022774bc-2c4a-4f26-9317-436c8d85746d"
    assert placed.date_time_received == utc(2019, 9, 5, 16, 41, 35, 173000)
    assert isinstance(placed.order_events[0], PlaceEvent)
    assert edited.status is OrderRequestStatus.EDITED
    (edit,) = edited.order_events
    assert isinstance(edit, EditEvent)
    assert (edit.old.quantity, edit.new.quantity) == (D("102.0"), D(1000))
    assert cancelled.status is OrderRequestStatus.CANCELLED
    assert isinstance(cancelled.order_events[0], CancelEvent)


def check_order_status(result: list[OrderStatus]) -> None:
    booked, trigger = result
    assert booked.status == "ENTERED_BOOK"
    assert booked.order.type == "ORDER"
    assert booked.order.cli_ord_id == "mm-0001"
    assert (booked.order.quantity, booked.order.limit_price) == (D("0.3"), D(3560))
    assert booked.order.last_update_timestamp == utc(2024, 5, 1, 12, 0, 59, 998000)
    assert booked.order.price_trigger_options is None
    assert (booked.update_reason, booked.error) == (None, None)
    assert trigger.status == "TRIGGER_PLACED"
    assert trigger.order.filled is None
    assert trigger.order.price_trigger_options == PriceTriggerOptions(
        trigger_price=D(58000), trigger_side="TRIGGER_BELOW", trigger_signal="MARK_PRICE"
    )


# --- calls ---------------------------------------------------------------------------------


async def rejected(call: Awaitable[Any]) -> OrderRejectedError:
    """The refusal a call must raise; its structured result is checked like an answer."""
    with pytest.raises(OrderRejectedError) as info:
        await call
    return info.value


def _batch() -> BatchOrder:
    return (
        BatchOrder()
        .send(symbol="PI_XBTUSD", side="buy", size=1000, limit_price=9400, cli_ord_id="b-1")
        .edit(order_id="9c2cbcc8-14f6-42fe-a020-6e395babafd1", size=1000, limit_price=9400)
        .cancel(order_id="566942c8-a3b5-4184-a451-622b09493129")
    )


_V3 = "/derivatives/api/v3"

#: Orders carry an explicit ``processBefore`` so that what is sent is fully determined (the
#: library may otherwise add a deadline of its own, computed from the clock).
DEADLINE = utc(2030, 1, 2, 3, 4, 5, 678000)
DEADLINE_SENT = "2030-01-02T03%3A04%3A05.678Z"

CASES = [
    Case(
        id="tickers",
        endpoint="tickers",
        call=lambda kf: kf.market.tickers(),
        path=f"{_V3}/tickers",
        sent="",
        check=check_tickers,
        **from_spec("getTickers"),
    ),
    Case(
        id="ticker",
        endpoint="ticker",
        call=lambda kf: kf.market.ticker("PI_XBTUSD"),
        path=f"{_V3}/tickers/PI_XBTUSD",
        sent="",
        check=check_ticker,
        **from_spec("getTicker"),
    ),
    Case(
        id="orderbook",
        endpoint="orderbook",
        call=lambda kf: kf.market.orderbook("PF_XBTUSD"),
        path=f"{_V3}/orderbook",
        sent="symbol=PF_XBTUSD",
        answer=ORDERBOOK_ANSWER,
        source="OpenAPI getOrderbook orderBook schema example, envelope per reference §3.2",
        check=check_orderbook,
    ),
    Case(
        id="trades",
        endpoint="trades",
        call=lambda kf: kf.market.trades("PF_XBTUSD", before=utc(2024, 5, 1, 12, 0, 0, 123000)),
        path=f"{_V3}/history",
        sent="symbol=PF_XBTUSD&lastTime=2024-05-01T12%3A00%3A00.123Z",
        answer=TRADES_ANSWER,
        source="reference §4.1.4 shape (the spec has no example)",
        check=check_trades,
    ),
    Case(
        id="instruments",
        endpoint="instruments",
        call=lambda kf: kf.market.instruments(),
        path=f"{_V3}/instruments",
        sent="",
        check=check_instruments,
        **from_spec("getInstruments"),
    ),
    Case(
        id="candles-spec",
        endpoint="candles",
        call=lambda kf: kf.market.candles(
            "PF_XBTUSD", "1h", utc(2023, 11, 14, 22, 13, 20), utc(2023, 11, 15, 0, 13, 20), count=2
        ),
        path="/api/charts/v1/trade/PF_XBTUSD/1h",
        sent="from=1700000000&to=1700007200&count=2",
        answer=CANDLES_SPEC_ANSWER,
        source="OpenAPI candles Candlestick property examples",
        check=check_candles_spec,
    ),
    Case(
        id="candles-recorded",
        endpoint="candles",
        call=lambda kf: kf.market.candles("PF_XBTUSD", "1m", tick_type="mark"),
        path="/api/charts/v1/mark/PF_XBTUSD/1m",
        sent="",
        answer=CANDLES_APPENDIX_ANSWER,
        source="reference Appendix A (market data)",
        check=check_candles_appendix,
        spec_valid=False,
        why_not_spec_valid="recorded volume is a string; the spec types it as a number (§4.5)",
    ),
    Case(
        id="accounts-spec",
        endpoint="accounts",
        call=lambda kf: kf.account.accounts(),
        path=f"{_V3}/accounts",
        sent="",
        check=check_accounts_spec,
        **from_spec("getAccounts"),
    ),
    Case(
        id="accounts-recorded",
        endpoint="accounts",
        call=lambda kf: kf.account.accounts(),
        path=f"{_V3}/accounts",
        sent="",
        answer=ACCOUNTS_APPENDIX_ANSWER,
        source="reference Appendix A (account data)",
        check=check_accounts_appendix,
        spec_valid=False,
        why_not_spec_valid="recorded balances are numbers; the spec types them as strings (§4.2.1)",
    ),
    Case(
        id="open_positions",
        endpoint="open_positions",
        call=lambda kf: kf.account.open_positions(),
        path=f"{_V3}/openpositions",
        sent="",
        check=check_open_positions,
        **from_spec("getOpenPositions", "success"),
    ),
    Case(
        id="open_orders",
        endpoint="open_orders",
        call=lambda kf: kf.orders.open(),
        path=f"{_V3}/openorders",
        sent="",
        check=check_open_orders,
        **from_spec("getOpenOrders"),
    ),
    Case(
        id="open_orders-stop",
        endpoint="open_orders",
        call=lambda kf: kf.orders.open(),
        path=f"{_V3}/openorders",
        sent="",
        answer=OPEN_STOP_ORDER_ANSWER,
        source="reference Appendix A (account data)",
        check=check_open_stop_order,
    ),
    Case(
        id="fills",
        endpoint="fills",
        call=lambda kf: kf.orders.fills(before=utc(2020, 7, 22, 14)),
        path=f"{_V3}/fills",
        sent="lastFillTime=2020-07-22T14%3A00%3A00.000Z",
        check=check_fills,
        **from_spec("getFills"),
    ),
    Case(
        id="send_order-placed",
        endpoint="send_order",
        call=lambda kf: kf.orders.send(
            symbol="PI_XBTUSD",
            side="buy",
            size=10000,
            limit_price=9400,
            cli_ord_id="kfa-t-1",
            process_before=DEADLINE,
        ),
        path=f"{_V3}/sendorder",
        sent=(
            "orderType=lmt&symbol=PI_XBTUSD&side=buy&size=10000&limitPrice=9400&cliOrdId=kfa-t-1"
            f"&processBefore={DEADLINE_SENT}"
        ),
        check=check_send_placed,
        **from_spec("sendOrder", "placed"),
    ),
    Case(
        id="send_order-executed",
        endpoint="send_order",
        call=lambda kf: kf.orders.send(
            symbol="PI_XBTUSD",
            side=Side.BUY,
            size=D("10"),
            order_type=OrderType.IMMEDIATE_OR_CANCEL,
            limit_price=D("7500"),
            cli_ord_id="kfa-t-2",
            process_before=DEADLINE,
        ),
        path=f"{_V3}/sendorder",
        sent=(
            "orderType=ioc&symbol=PI_XBTUSD&side=buy&size=10&limitPrice=7500&cliOrdId=kfa-t-2"
            f"&processBefore={DEADLINE_SENT}"
        ),
        check=check_send_executed,
        **from_spec("sendOrder", "executed"),
    ),
    Case(
        id="send_order-rejected",
        endpoint="send_order",
        call=lambda kf: rejected(
            kf.orders.send(
                symbol="PI_XBTUSD",
                side="buy",
                size=10000,
                order_type="ioc",
                limit_price=9400,
                reduce_only=True,
                cli_ord_id="kfa-t-3",
                process_before=DEADLINE,
            )
        ),
        path=f"{_V3}/sendorder",
        sent=(
            "orderType=ioc&symbol=PI_XBTUSD&side=buy&size=10000&limitPrice=9400"
            f"&cliOrdId=kfa-t-3&reduceOnly=true&processBefore={DEADLINE_SENT}"
        ),
        check=check_send_rejected,
        **from_spec("sendOrder", "rejected"),
    ),
    Case(
        id="send_order-stop",
        endpoint="send_order",
        call=lambda kf: kf.orders.send(
            symbol="PF_XBTUSD",
            side="sell",
            size="0.01",
            order_type="stp",
            stop_price=58000,
            limit_price=57900,
            trigger_signal="mark",
            reduce_only=True,
            cli_ord_id="stop-1",
            process_before=DEADLINE,
        ),
        path=f"{_V3}/sendorder",
        sent=(
            "orderType=stp&symbol=PF_XBTUSD&side=sell&size=0.01&limitPrice=57900"
            "&stopPrice=58000&triggerSignal=mark&cliOrdId=stop-1&reduceOnly=true"
            f"&processBefore={DEADLINE_SENT}"
        ),
        answer=STOP_ORDER_ANSWER,
        source="reference Appendix A (sendorder, stop order accepted)",
        check=check_send_stop,
    ),
    Case(
        id="edit_order",
        endpoint="edit_order",
        call=lambda kf: kf.orders.edit(
            order_id="022774bc-2c4a-4f26-9317-436c8d85746d",
            size=1501,
            limit_price=7200,
            process_before=utc(2019, 9, 5, 16, 48),
        ),
        path=f"{_V3}/editorder",
        sent=(
            "orderId=022774bc-2c4a-4f26-9317-436c8d85746d&size=1501&limitPrice=7200"
            "&processBefore=2019-09-05T16%3A48%3A00.000Z"
        ),
        check=check_edit,
        **from_spec("editOrderSpring"),
    ),
    Case(
        id="cancel_order",
        endpoint="cancel_order",
        call=lambda kf: kf.orders.cancel(order_id="cb4e34f6-4eb3-4d4b-9724-4c3035b99d47"),
        path=f"{_V3}/cancelorder",
        sent="order_id=cb4e34f6-4eb3-4d4b-9724-4c3035b99d47",
        check=check_cancel,
        **from_spec("cancelOrder"),
    ),
    Case(
        id="cancel_order-not-found",
        endpoint="cancel_order",
        call=lambda kf: rejected(kf.orders.cancel(cli_ord_id="mm-0001")),
        path=f"{_V3}/cancelorder",
        sent="cliOrdId=mm-0001",
        answer=CANCEL_NOT_FOUND_ANSWER,
        source="reference Appendix A (cancelorder notFound)",
        check=check_cancel_not_found,
    ),
    Case(
        id="cancel_all_orders",
        endpoint="cancel_all_orders",
        call=lambda kf: kf.orders.cancel_all(),
        path=f"{_V3}/cancelallorders",
        sent="",
        check=check_cancel_all,
        **from_spec("cancelAllOrders"),
    ),
    Case(
        id="cancel_all_orders-symbol",
        endpoint="cancel_all_orders",
        call=lambda kf: kf.orders.cancel_all("PF_XBTUSD"),
        path=f"{_V3}/cancelallorders",
        sent="symbol=PF_XBTUSD",
        answer=CANCEL_ALL_NOTHING_ANSWER,
        source="reference §4.3.4 shape",
        check=check_cancel_all_nothing,
    ),
    Case(
        id="cancel_all_orders_after-armed",
        endpoint="cancel_all_orders_after",
        call=lambda kf: kf.orders.cancel_all_after(60),
        path=f"{_V3}/cancelallordersafter",
        sent="timeout=60",
        check=check_dead_man_armed,
        **from_spec("cancelAllOrdersAfter", "success"),
    ),
    Case(
        id="cancel_all_orders_after-off",
        endpoint="cancel_all_orders_after",
        call=lambda kf: kf.orders.cancel_all_after(dt.timedelta(0)),
        path=f"{_V3}/cancelallordersafter",
        sent="timeout=0",
        check=check_dead_man_off,
        **from_spec("cancelAllOrdersAfter", "cancel"),
    ),
    Case(
        id="batch_order",
        endpoint="batch_order",
        call=lambda kf: kf.orders.batch(_batch()),
        path=f"{_V3}/batchorder",
        sent="json=" + quote_plus(BATCH_JSON, safe=""),
        check=check_batch,
        **from_spec("sendBatchOrder"),
    ),
    Case(
        id="order_status",
        endpoint="order_status",
        call=lambda kf: kf.orders.status(
            order_ids=[
                "5b1d3c1e-7c0a-4f4e-9d59-2a6f0c3b9e11",
                "0f3e2a77-1d2b-4c6d-8e9f-3a4b5c6d7e8f",
            ],
            cli_ord_ids=["mm-0001"],
        ),
        path=f"{_V3}/orders/status",
        sent=(
            "orderIds=5b1d3c1e-7c0a-4f4e-9d59-2a6f0c3b9e11"
            "&orderIds=0f3e2a77-1d2b-4c6d-8e9f-3a4b5c6d7e8f&cliOrdIds=mm-0001"
        ),
        answer=ORDER_STATUS_ANSWER,
        source="reference Appendix A (orders/status) + §4.2.5 trigger shape",
        check=check_order_status,
    ),
]


# --- the tests -----------------------------------------------------------------------------


def _check_auth_headers(request: httpx.Request, row: Endpoint) -> None:
    present = {name for name in _AUTH_HEADERS if name in request.headers}
    if not row.private:
        assert present == set(), f"a public call must not carry {present}"
        return
    assert present == set(_AUTH_HEADERS)
    assert request.headers["APIKey"] == TEST_KEY
    nonce = request.headers["Nonce"]
    assert nonce.isdigit()
    post_data = request.url.query.decode() + request.content.decode()
    expected = sign(
        base64.b64decode(TEST_SECRET), post_data, nonce, endpoint_path(request.url.path)
    )
    assert request.headers["Authent"] == expected


def _check_parameters_against_spec(case: Case, row: Endpoint) -> None:
    """Names the client sends are names the spec declares; required ones are all there."""
    op = spec.operation(row.operation_id)
    sent = parse_qsl(case.sent, keep_blank_values=True)
    declared = {p.name: p for p in op.parameters if p.location == "query"}
    form: dict[str, Any] = {}
    if op.request_body is not None:
        form = spec.request_schema(row.operation_id).get("properties", {})
    unknown = {name for name, _ in sent} - set(declared) - set(form)
    assert not unknown, f"{row.operation_id} declares no parameter {sorted(unknown)}"
    missing = {n for n, p in declared.items() if p.required} - {name for name, _ in sent}
    assert not missing, f"{row.operation_id} requires {sorted(missing)}"
    for name, value in sent:
        schema = declared[name].schema if name in declared else None
        enum = schema.get("enum") if isinstance(schema, dict) else None
        if enum is not None:
            assert value in enum, f"{name}={value} is not one of {enum}"
        if name == "json" and "json" in form:
            spec.validate(form["json"], json.loads(value), f"{row.operation_id} json")


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
async def test_endpoint_on_the_wire(case: Case, credentials: Credentials) -> None:
    row = endpoint(case.endpoint)
    # "httpx" mocks the client's transport lookup, whatever pool the Session uses.
    with respx.mock(base_url=BASE_URL, assert_all_called=True, using="httpx") as router:
        route = router.route(method=row.method, path=case.path).mock(
            return_value=httpx.Response(
                200, content=case.answer.encode(), headers={"Content-Type": "application/json"}
            )
        )
        async with Session(
            credentials,
            base_url=BASE_URL,
            rate_limits=RateLimitPolicy.unlimited(),
            converter=strict_converter(),
            check_orders=False,
        ) as kf:
            result = await case.call(kf)

    assert route.call_count == 1
    request = route.calls.last.request
    assert request.method == row.method
    assert request.url.path == case.path
    assert re.fullmatch(re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(row.path)), case.path)
    if row.params_in is ParamsIn.FORM:
        assert request.url.query == b""
        assert request.content == case.sent.encode()
        assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    else:
        assert request.url.query == case.sent.encode()
        assert request.content == b""
        assert "Content-Type" not in request.headers
    _check_auth_headers(request, row)
    _check_parameters_against_spec(case, row)
    case.check(result)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_answer_fixture_against_the_spec_schema(case: Case) -> None:
    """Fixtures that are not spec examples still follow the spec, or say why not."""
    op_id = endpoint(case.endpoint).operation_id
    body = json.loads(case.answer)
    if case.spec_valid:
        spec.validate_response(op_id, 200, body)
    else:
        assert case.why_not_spec_valid
        with pytest.raises(spec.SchemaMismatchError):
            spec.validate_response(op_id, 200, body)


#: The rows this module was written for; rows added later bring their own wire cases.
ROWS_COVERED_HERE = frozenset(
    {
        "tickers",
        "ticker",
        "orderbook",
        "trades",
        "instruments",
        "candles",
        "accounts",
        "open_positions",
        "open_orders",
        "fills",
        "send_order",
        "edit_order",
        "cancel_order",
        "cancel_all_orders",
        "cancel_all_orders_after",
        "batch_order",
        "order_status",
    }
)


def test_every_row_named_here_exists_and_has_a_wire_case() -> None:
    assert {row.name for row in ENDPOINTS} >= ROWS_COVERED_HERE
    assert {c.endpoint for c in CASES} == ROWS_COVERED_HERE
    assert len({c.id for c in CASES}) == len(CASES)


#: Key schemes of the spec that a row's access level satisfies (a full-access key also
#: does what a read-only key does; ``api-key-any`` is the auth service's "any key").
_SCHEMES_FOR_ACCESS = {
    Access.READ: {"general-api-key-read-only", "api-key-any"},
    Access.FULL: {"general-api-key", "general-api-key-read-only", "api-key-any"},
    Access.WITHDRAWAL: {"withdrawal-api-key"},
}


@pytest.mark.parametrize("row", ENDPOINTS, ids=lambda r: r.name)
def test_endpoint_row_matches_the_openapi_operation(row: Endpoint) -> None:
    op = spec.operation(row.operation_id)
    assert op.operation_id == row.operation_id
    assert (op.method, op.path) == (row.method, row.path)
    assert op.private is row.private
    if row.private:
        schemes = _SCHEMES_FOR_ACCESS[row.access]
        assert any(schemes & set(requirement) for requirement in op.security), (
            f"{row.name}: a {row.access.value} key satisfies none of {op.security}"
        )
