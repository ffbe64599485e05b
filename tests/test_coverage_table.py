"""The rows added for full coverage: access, budget and cost (reference §4.0, §6), where the
parameters go, envelopes, aliases, deprecations and idempotence."""

from __future__ import annotations

import pytest

from kraken_futures_async.ratelimit import Budget
from kraken_futures_async.rest.endpoints import ENDPOINTS, Access, ParamsIn, endpoint

#: name: (access, cost) for private /derivatives rows; costs from reference §6, and 1 for the
#: calls Kraken publishes no cost for.
DERIVATIVES = {
    "fee_schedule_volumes": (Access.READ, 1),
    "notifications": (Access.READ, 1),
    "unwind_queue": (Access.READ, 200),
    "leverage_preferences": (Access.READ, 2),
    "set_leverage_preference": (Access.FULL, 10),
    "pnl_preferences": (Access.READ, 2),
    "set_pnl_preference": (Access.FULL, 10),
    "self_trade_strategy": (Access.READ, 2),
    "set_self_trade_strategy": (Access.FULL, 2),
    "transfer": (Access.FULL, 10),
    "subaccount_transfer": (Access.FULL, 10),
    "withdrawal": (Access.WITHDRAWAL, 100),
    "subaccounts": (Access.READ, 1),
    "subaccount_trading": (Access.FULL, 2),
    "set_subaccount_trading": (Access.FULL, 2),
    "assignment_current": (Access.READ, 1),
    "assignment_add": (Access.READ, 1),
    "assignment_delete": (Access.READ, 1),
    "assignment_history": (Access.READ, 1),
    "portfolio_margining_parameters": (Access.READ, 1),
    "simulate_portfolio": (Access.READ, 1),
    "rfq_open_offers": (Access.READ, 1),
    "place_rfq_offer": (Access.READ, 1),
    "replace_rfq_offer": (Access.READ, 1),
    "cancel_rfq_offer": (Access.READ, 1),
}
PUBLIC = {
    "instruments_status",
    "instrument_status",
    "historical_funding_rates",
    "fee_schedules",
    "rfqs",
    "rfq",
    "market_executions",
    "market_orders",
    "market_prices",
    "tick_types",
    "chart_symbols",
    "chart_resolutions",
    "market_analytics",
    "liquidity_pool",
}
HISTORY_PRIVATE = {
    "history_executions": 1,
    "history_orders": 1,
    "history_triggers": 1,
    "history_positions": 1,
    "account_log_csv": 6,
}


@pytest.mark.parametrize(("name", "expected"), DERIVATIVES.items())
def test_private_derivatives_rows_cost_what_kraken_charges(
    name: str, expected: tuple[Access, int]
) -> None:
    row = endpoint(name)
    assert (row.access, row.cost_of(())) == expected
    assert row.budget is Budget.DERIVATIVES
    assert row.envelope


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_public_rows_are_free_and_unsigned(name: str) -> None:
    row = endpoint(name)
    assert row.access is Access.PUBLIC
    assert not row.private
    assert row.budget is None
    assert row.cost_of(()) == 0
    assert row.idempotent


@pytest.mark.parametrize(("name", "cost"), HISTORY_PRIVATE.items())
def test_own_history_draws_on_the_history_budget(name: str, cost: int) -> None:
    row = endpoint(name)
    assert (row.access, row.budget, row.cost_of(())) == (Access.READ, Budget.HISTORY, cost)


@pytest.mark.parametrize(
    ("count", "cost"),
    [
        (None, 3),
        (1, 1),
        (25, 1),
        (26, 2),
        (50, 2),
        (51, 3),
        (1000, 3),
        (1001, 6),
        (5000, 6),
        (5001, 10),
        (100000, 10),
    ],
)
def test_the_account_log_costs_by_count(count: int | None, cost: int) -> None:
    params = () if count is None else (("count", str(count)),)
    assert endpoint("account_log").cost_of(params) == cost


def test_history_rows_have_no_envelope_a_v2_twin_and_a_continuation_header() -> None:
    for row in ENDPOINTS:
        if not row.path.startswith("/api/history/"):
            continue
        assert row.path.startswith("/api/history/v3/")
        assert not row.envelope
        assert row.aliases == (row.path.replace("/v3/", "/v2/", 1),)
        assert row.header_fields == (("Next-Continuation-Token", "continuationToken"),)


def test_charts_auth_and_stats_answers_carry_no_envelope() -> None:
    prefixes = ("/api/charts/", "/api/auth/", "/api/stats/")
    rows = [row for row in ENDPOINTS if row.path.startswith(prefixes)]
    assert len(rows) == 8
    assert all(not row.envelope for row in rows)
    assert endpoint("check_api_key").budget is None
    assert endpoint("self_market_share").budget is None


def test_funding_rates_use_the_v3_path_and_know_the_v4_one() -> None:
    row = endpoint("historical_funding_rates")
    assert row.path == "/derivatives/api/v3/historical-funding-rates"
    assert row.aliases == ("/derivatives/api/v4/historicalfundingrates",)


def test_only_the_fee_schedule_rows_are_deprecated_and_they_say_what_replaces_them() -> None:
    deprecated = {row.name for row in ENDPOINTS if row.deprecated}
    assert deprecated == {"fee_schedules", "fee_schedule_volumes"}
    for name in deprecated:
        text = endpoint(name).deprecated or ""
        assert "2026-06-22" in text
        assert "TradeVolume" in text


def test_parameters_go_where_kraken_takes_them() -> None:
    for row in ENDPOINTS:
        if row.method in ("PUT", "GET", "DELETE") and row.params_in is not ParamsIn.JSON:
            assert row.params_in is ParamsIn.QUERY, row.name
    assert endpoint("place_rfq_offer").params_in is ParamsIn.JSON
    assert endpoint("replace_rfq_offer").params_in is ParamsIn.JSON
    assert endpoint("simulate_portfolio").params_in is ParamsIn.QUERY
    for name in ("transfer", "subaccount_transfer", "withdrawal", "assignment_add"):
        assert endpoint(name).params_in is ParamsIn.FORM


def test_only_the_csv_row_answers_text() -> None:
    assert [row.name for row in ENDPOINTS if row.raw_text] == ["account_log_csv"]
    assert endpoint("account_log_csv").result is str


def test_moving_money_and_creating_things_is_never_idempotent() -> None:
    for name in (
        "transfer",
        "subaccount_transfer",
        "withdrawal",
        "assignment_add",
        "assignment_delete",
        "place_rfq_offer",
        "cancel_rfq_offer",
    ):
        assert not endpoint(name).idempotent, name
    for name in ("set_leverage_preference", "set_self_trade_strategy", "simulate_portfolio"):
        assert endpoint(name).idempotent, name
