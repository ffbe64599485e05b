"""Refusals of the newly served operations, sent by hand so that the library's own argument
checks do not stop them first; their error bodies are held to the spec by conftest too."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from kraken_futures_async.simulator import ApiKey, ManualClock, Permissions, Twin, TwinConfig

from .test_sim_http_fake import signed_headers

D = "/derivatives/api/v3"
H = "/api/history/v3"


class Caller:
    """Signed hand-made requests to one twin: POST sends a form body (unless told to use the
    query), others a query; ``body`` is sent as JSON."""

    def __init__(self, twin: Twin, client: httpx.AsyncClient) -> None:
        self.twin, self.client = twin, client

    async def __call__(
        self,
        method: str,
        path: str,
        params: dict[str, str] | None = None,
        *,
        key: ApiKey | None = None,
        body: dict[str, Any] | None = None,
        in_query: bool = False,
    ) -> httpx.Response:
        encoded = urlencode(params or {})
        query, form = ("", encoded) if method == "POST" and not in_query else (encoded, "")
        content = form if body is None else json.dumps(body)
        headers = signed_headers(key or self.twin.key, path, query=query, body=content)
        if body is not None:
            headers["Content-Type"] = "application/json"
        elif form:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        url = f"{path}?{query}" if query else path
        return await self.client.request(method, url, content=content, headers=headers)


@pytest.fixture
async def call() -> Any:
    twin = Twin(TwinConfig(seed=2, clock=ManualClock(), rate_limits=False))
    async with httpx.AsyncClient(transport=twin.transport(), base_url="http://127.0.0.1") as c:
        yield Caller(twin, c)


def _code(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json()["error"]


async def test_transfer_refusals(call: Caller) -> None:
    base = {"fromAccount": "flex", "toAccount": "cash", "unit": "usd"}
    assert _code(await call("POST", f"{D}/transfer", {**base, "amount": "0"})) == (
        200,
        "invalidAmount",
    )
    assert _code(await call("POST", f"{D}/transfer", {**base, "amount": "ten"})) == (
        200,
        "invalidAmount",
    )
    assert _code(await call("POST", f"{D}/transfer", {"amount": "1"})) == (
        200,
        "requiredArgumentMissing",
    )
    withdrawer = call.twin.issue_key(permissions=Permissions.withdrawal())
    wrong_wallet = {"currency": "xbt", "amount": "0.01", "sourceWallet": "fi_xbtusd"}
    assert _code(await call("POST", f"{D}/withdrawal", wrong_wallet, key=withdrawer)) == (
        200,
        "invalidAccount",
    )


async def test_settings_and_subaccount_refusals(call: Caller) -> None:
    strategy = await call("PUT", f"{D}/self-trade-strategy", {"strategy": "NEVER"})
    assert _code(strategy) == (200, "invalidArgument")
    listing = (await call("GET", f"{D}/subaccounts")).json()
    sub = listing["subaccounts"][0]["accountUid"]
    switch = f"{D}/subaccount/{sub}/trading-enabled"
    assert _code(await call("PUT", switch)) == (200, "requiredArgumentMissing")
    assert (await call("PUT", switch, {"tradingEnabled": "maybe"})).json()["error"] == (
        "invalidArgument"
    )
    unknown = f"{D}/subaccount/{call.twin.account_uid}/trading-enabled"
    assert (await call("GET", unknown)).status_code == 404


async def test_assignment_portfolio_and_rfq_refusals(call: Caller) -> None:
    add = {"contractType": "flexible_futures", "acceptShort": "true", "timeFrame": "all"}
    assert _code(await call("POST", f"{D}/assignmentprogram/add", add)) == (
        200,
        "requiredArgumentMissing",
    )
    assert _code(await call("POST", f"{D}/assignmentprogram/delete", {"id": "one"})) == (
        200,
        "invalidArgument",
    )
    simulate = f"{D}/portfolio-margining/simulate"
    broken = await call("POST", simulate, {"json": "{oops"}, in_query=True)
    assert _code(broken) == (200, "Json Parse Error")
    empty = await call("POST", simulate, {"json": '{"positions": []}'}, in_query=True)
    assert _code(empty) == (200, "requiredArgumentMissing")
    rfqs = (await call("GET", f"{D}/rfqs")).json()["rfqs"]
    place = f"{D}/rfqs/{rfqs[0]['rfqUid']}/place-offer"
    assert _code(await call("POST", place, body={})) == (200, "requiredArgumentMissing")
    assert _code(await call("POST", place, body={"bid": 5, "ask": 4})) == (200, "invalidArgument")
    nowhere = f"{D}/rfqs/3f1c2a4e-0000-4000-8000-000000000000"
    assert _code(await call("GET", nowhere)) == (200, "notFound")


async def test_history_refusals(call: Caller) -> None:
    for params in ({"sort": "sideways"}, {"count": "0"}, {"continuation_token": "@@@"}):
        refused = await call("GET", f"{H}/orders", params)
        assert _code(refused) == (400, "invalidArgument")
    assert _code(await call("GET", f"{H}/account-log", {"since": "yesterday"})) == (
        400,
        "invalidArgument",
    )
    assert _code(await call("GET", f"{H}/market/PF_NOPEUSD/price")) == (400, "invalidArgument")
    statuses = await call("GET", f"{D}/instruments/status", {"contractType": "options"})
    assert _code(statuses) == (200, "invalidArgument")


async def test_analytics_without_since_is_a_400_in_the_services_form(call: Caller) -> None:
    refused = await call("GET", "/api/charts/v1/analytics/liquidity-pool", {"interval": "60"})
    assert refused.status_code == 400
    (issue,) = refused.json()["errors"]
    assert (issue["type"], issue["field"]) == ("missing_field", "since")
