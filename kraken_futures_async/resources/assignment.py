"""The assignment program: offers to take over positions from liquidated accounts."""

from __future__ import annotations

from ..errors import InvalidArgumentError
from ..models import AssignmentHistoryEntry, AssignmentParticipant, AssignmentTimeFrame
from ..rest.endpoints import endpoint
from ..rest.wire import encode_params
from ._args import check_bool, check_text, optional_number
from ._base import Resource
from ._order_args import Number

__all__ = ["AssignmentResource"]

_CURRENT = endpoint("assignment_current")
_ADD = endpoint("assignment_add")
_DELETE = endpoint("assignment_delete")
_HISTORY = endpoint("assignment_history")


def _required_bool(name: str, value: bool) -> bool:
    if not isinstance(value, bool):
        raise InvalidArgumentError(f"{name} must be True or False, got {value!r}")
    return value


class AssignmentResource(Resource):
    async def current(self) -> list[AssignmentParticipant]:
        """The account's active assignment preferences."""
        result: list[AssignmentParticipant] = await self._backend.call(_CURRENT)
        return result

    async def add(
        self,
        *,
        contract_type: str,
        accept_long: bool,
        accept_short: bool,
        time_frame: AssignmentTimeFrame | str,
        enabled: bool = True,
        contract: str | None = None,
        max_size: Number | None = None,
        max_position: Number | None = None,
    ) -> AssignmentParticipant:
        """Offer to take over positions of ``contract_type`` (optionally one ``contract``)."""
        frame = AssignmentTimeFrame(time_frame)
        if frame is AssignmentTimeFrame.UNKNOWN:
            raise InvalidArgumentError(
                f"time_frame must be all, weekdays or weekends; got {time_frame!r}"
            )
        params = {
            "contractType": check_text("contract_type", contract_type),
            "contract": None if contract is None else check_text("contract", contract),
            "maxSize": optional_number("max_size", max_size),
            "maxPosition": optional_number("max_position", max_position),
            "acceptLong": _required_bool("accept_long", accept_long),
            "acceptShort": _required_bool("accept_short", accept_short),
            "timeFrame": frame,
            "enabled": check_bool("enabled", enabled),
        }
        result: AssignmentParticipant = await self._backend.call(_ADD, encode_params(params))
        return result

    async def delete(self, preference_id: int) -> AssignmentParticipant:
        """Withdraw the preference ``preference_id`` (an ``AssignmentParticipant.id``)."""
        if isinstance(preference_id, bool) or not isinstance(preference_id, int):
            raise InvalidArgumentError(f"preference_id must be an int, got {preference_id!r}")
        result: AssignmentParticipant = await self._backend.call(
            _DELETE, encode_params({"id": preference_id})
        )
        return result

    async def history(self) -> list[AssignmentHistoryEntry]:
        result: list[AssignmentHistoryEntry] = await self._backend.call(_HISTORY)
        return result
