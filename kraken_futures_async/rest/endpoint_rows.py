"""What an endpoint-table row is, and the ways rows are written.

A row says how to reach an operation over REST (method, path, where parameters go and how
they are named), who may call it (access), what it costs against which budget, where its
result sits in the answer, which order statuses count as success, and whether it only takes
risk off. The operation itself (its request and result types) is in the operation list,
under the same name. The table is ``endpoints.py``.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import quote

import attrs

from ..operations.catalog import NOTHING, operation
from ..ratelimit import Budget

__all__ = [
    "AUTH_V1",
    "CHARTS_V1",
    "DERIVATIVES_V3",
    "DERIVATIVES_V4",
    "HISTORY_V2",
    "HISTORY_V3",
    "NOTHING",
    "STATS_V1",
    "Access",
    "Endpoint",
    "OrderStatusCheck",
    "ParamsIn",
    "TimeForm",
    "WireParams",
    "account_log_cost",
    "batch_cost",
    "batch_reduces_risk",
    "fills_cost",
    "history_row",
    "private_row",
    "public_row",
    "reduce_only",
]

DERIVATIVES_V3 = "/derivatives/api/v3"
DERIVATIVES_V4 = "/derivatives/api/v4"
CHARTS_V1 = "/api/charts/v1"
HISTORY_V3 = "/api/history/v3"
#: Kraken serves the same history payloads on v2 (what several clients still call).
HISTORY_V2 = "/api/history/v2"
AUTH_V1 = "/api/auth/v1"
STATS_V1 = "/api/stats/v1"

#: Request parameters in wire form and wire order: repeated keys stand for arrays.
WireParams = Sequence[tuple[str, str]]


class Access(enum.Enum):
    """The API-key permission an operation needs."""

    PUBLIC = "public"
    READ = "read"
    FULL = "full"
    WITHDRAWAL = "withdrawal"


class ParamsIn(enum.Enum):
    """Where a request's parameters travel."""

    QUERY = "query"
    FORM = "form"
    #: One JSON object in the body; each pair's value is already JSON text (``100.5``,
    #: ``"text"``), so numbers stay numbers (the RFQ offer calls).
    JSON = "json"


class TimeForm(enum.Enum):
    """How a row's datetimes travel."""

    ISO = "iso"  # 2026-12-06T20:52:02.000Z
    EPOCH_MS = "ms"  # the history API
    EPOCH_S = "s"  # the charts API


@attrs.frozen
class OrderStatusCheck:
    """Where an order request's own status sits, and which values mean it went through."""

    key: str
    success: frozenset[str]


@attrs.frozen(kw_only=True)
class Endpoint:
    name: str
    operation_id: str
    method: str
    path: str
    access: Access
    #: Key of the payload in the answer; ``None`` means the answer itself (no envelope key).
    result_key: str | None
    budget: Budget | None = None
    cost: int | Callable[[WireParams], int] = 0
    params_in: ParamsIn = ParamsIn.QUERY
    order_status: OrderStatusCheck | None = None
    #: Answers carry Kraken's ``result``/``serverTime`` envelope (charts and history do not).
    envelope: bool = True
    #: Sending it twice does no harm (reads; also POST ``orders/status``).
    idempotent: bool = False
    #: Other paths Kraken serves the same operation on (history v2, funding v4); the twin
    #: answers on them too, the client uses ``path``.
    aliases: tuple[str, ...] = ()
    #: Why the operation is deprecated and what replaces it; calling it warns.
    deprecated: str | None = None
    #: The answer is text (``accountlogcsv``'s CSV), handed over as sent; ``result`` is ``str``.
    raw_text: bool = False
    #: Response headers copied into the payload, as (header, key), when the body lacks the key
    #: (the history API's ``Next-Continuation-Token`` continues a listing).
    header_fields: tuple[tuple[str, str], ...] = ()
    #: The call only takes risk off (cancels, the dead man's switch, reduce-only orders): it
    #: goes ahead of queued sends and reads and may use the budget's reserve.
    risk_reducing: bool | Callable[[WireParams], bool] = False
    #: Wire names of request fields that are not the field's camelCase (or, on a
    #: ``snake_case`` row, its own) name.
    wire_names: Mapping[str, str] = attrs.field(factory=dict)
    snake_case: bool = False
    times: TimeForm = TimeForm.ISO
    #: Builds the wire fields itself, for requests that travel as one JSON text.
    encode: Callable[[Any], Iterable[tuple[str, Any]]] | None = None

    @property
    def result(self) -> Any:
        """The type the answer is structured into: the operation's result."""
        return operation(self.name).result

    @property
    def private(self) -> bool:
        return self.access is not Access.PUBLIC

    def reduces_risk(self, params: WireParams) -> bool:
        return self.risk_reducing(params) if callable(self.risk_reducing) else self.risk_reducing

    def cost_of(self, params: WireParams) -> int:
        return self.cost(params) if callable(self.cost) else self.cost

    def url_path(self, path_params: dict[str, str] | None = None) -> str:
        if not path_params:
            return self.path
        return self.path.format(**{k: quote(v, safe="") for k, v in path_params.items()})


def batch_cost(params: WireParams) -> int:
    """9 plus one per instruction (counted from the ``json`` field's ``"order":`` keys)."""
    text = next((value for key, value in params if key == "json"), "")
    return 9 + text.count('"order":')


def fills_cost(params: WireParams) -> int:
    """Paging back with ``lastFillTime`` costs 25; the latest page costs 2."""
    return 25 if any(key == "lastFillTime" for key, _ in params) else 2


def account_log_cost(params: WireParams) -> int:
    """The history budget charges the account log by ``count``; Kraken's default is 500."""
    text = next((value for key, value in params if key == "count"), "500")
    try:
        count = int(text)
    except ValueError:
        count = 500
    for ceiling, cost in ((25, 1), (50, 2), (1000, 3), (5000, 6)):
        if count <= ceiling:
            return cost
    return 10


def reduce_only(params: WireParams) -> bool:
    return ("reduceOnly", "true") in params


def batch_reduces_risk(params: WireParams) -> bool:
    """Every instruction is a cancel or a reduce-only order (nothing can add exposure)."""
    text = next((value for key, value in params if key == "json"), "")
    try:
        items = json.loads(text).get("batchOrder", [])
    except (ValueError, AttributeError):
        return False
    return bool(items) and all(
        isinstance(item, dict) and (item.get("order") == "cancel" or item.get("reduceOnly") is True)
        for item in items
    )


SENT_STATUSES = frozenset({"placed", "partiallyFilled", "filled"})

#: Kraken publishes no cost for these private derivatives calls (notifications, subaccounts,
#: fee volumes, assignment program, portfolio margining, RFQs); 1 unit is what Kraken.Net
#: charges, so the budget still counts them.
UNLISTED_COST = 1

FEES_DEPRECATED = (
    "Kraken deprecated the fee-schedule endpoints on 2026-06-22: fees moved to Kraken's central "
    "fee service; use the Spot API's TradeVolume call for fee tiers and 30-day volume"
)
CONTINUATION = (("Next-Continuation-Token", "continuationToken"),)


def _absolute(path: str) -> str:
    """Rows write derivatives paths after ``/derivatives/api/v3``; other APIs in full."""
    return path if path.startswith(("/api/", "/derivatives/")) else f"{DERIVATIVES_V3}{path}"


def public_row(name: str, op: str, path: str, key: str | None, **kw: Any) -> Endpoint:
    return Endpoint(
        name=name,
        operation_id=op,
        method="GET",
        path=_absolute(path),
        access=Access.PUBLIC,
        result_key=key,
        idempotent=True,
        **kw,
    )


def history_row(name: str, op: str, path: str, access: Access, **kw: Any) -> Endpoint:
    """A history API row: no envelope, v2 twin, continuation header, history budget if
    private, parameters in snake case and times in epoch milliseconds."""
    private = access is not Access.PUBLIC
    kw.setdefault("cost", 1 if private else 0)
    return Endpoint(
        name=name,
        operation_id=op,
        method="GET",
        path=f"{HISTORY_V3}{path}",
        access=access,
        result_key=None,
        budget=Budget.HISTORY if private else None,
        snake_case=True,
        times=TimeForm.EPOCH_MS,
        envelope=False,
        idempotent=True,
        aliases=(f"{HISTORY_V2}{path}",),
        header_fields=CONTINUATION,
        **kw,
    )


def private_row(
    name: str,
    op: str,
    route: str,
    access: Access,
    key: str | None,
    cost: int | Callable[[WireParams], int],
    **kw: Any,
) -> Endpoint:
    """A private derivatives row; ``route`` is ``"METHOD /path"``."""
    method, path = route.split(" ", 1)
    kw.setdefault("idempotent", method == "GET")
    kw.setdefault("params_in", ParamsIn.FORM if method == "POST" else ParamsIn.QUERY)
    return Endpoint(
        name=name,
        operation_id=op,
        method=method,
        path=_absolute(path),
        access=access,
        result_key=key,
        budget=Budget.DERIVATIVES,
        cost=cost,
        **kw,
    )
