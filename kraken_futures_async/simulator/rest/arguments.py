"""Required arguments, checked before the key: Kraken refuses a request without them first.

``POST /derivatives/api/v3/sendorder`` with an empty body and a wrong ``APIKey`` answers
``requiredArgumentMissing`` on Kraken, not ``authenticationError``: its request validation
runs before its authentication. The twin does the same for every private POST of the
endpoint table whose spec lists required arguments (the table below, checked against
Kraken's OpenAPI files by ``test_the_required_arguments_are_those_of_krakens_spec`` in
``tests/test_sim_fidelity_twin.py``). Path parameters are left out: a request without them
does not reach the operation at all. Arguments that are required only one of several
(``orderId`` or ``cliOrdId``) are the engine's to check.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ..errors import ExchangeError

__all__ = ["REQUIRED_ARGUMENTS", "check_required"]

#: Operation name to the wire arguments Kraken's spec marks required (non-path).
REQUIRED_ARGUMENTS: Mapping[str, tuple[str, ...]] = {
    "send_order": ("orderType", "symbol", "side", "size"),
    "batch_order": ("json",),
    "transfer": ("fromAccount", "toAccount", "unit", "amount"),
    "subaccount_transfer": ("fromUser", "toUser", "fromAccount", "toAccount", "unit", "amount"),
    "withdrawal": ("currency", "amount"),
    "assignment_add": ("contractType", "acceptLong", "acceptShort", "timeFrame", "enabled"),
    "assignment_delete": ("id",),
    "simulate_portfolio": ("json",),
}


def check_required(operation: str, pairs: Iterable[tuple[str, str]]) -> None:
    """Refuse with ``requiredArgumentMissing`` if a required argument is absent or blank.

    Blank counts as absent, as the engine reads parameters (:class:`..engine.params.Params`).
    """
    required = REQUIRED_ARGUMENTS.get(operation)
    if not required:
        return
    present = {name for name, value in pairs if value.strip() != ""}
    if not present.issuperset(required):
        raise ExchangeError("requiredArgumentMissing")
