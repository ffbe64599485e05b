"""The assignment program: offers to take over positions from liquidated accounts."""

from __future__ import annotations

from ..models import AssignmentHistoryEntry, AssignmentParticipant, AssignmentTimeFrame
from ..operations import NO_ARGUMENTS
from ..operations import catalog as ops
from ..operations.account import AddAssignment, DeleteAssignment
from ..operations.checks import Number
from ._base import Resource

__all__ = ["AssignmentResource"]


class AssignmentResource(Resource):
    """``kf.assignment``: the account's preferences for the assignment program."""

    async def current(self) -> list[AssignmentParticipant]:
        """The account's active assignment preferences."""
        return await self._session.execute(ops.ASSIGNMENT_CURRENT, NO_ARGUMENTS)

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
        request = AddAssignment(
            contract_type=contract_type,
            accept_long=accept_long,
            accept_short=accept_short,
            time_frame=time_frame,
            enabled=enabled,
            contract=contract,
            max_size=max_size,
            max_position=max_position,
        )
        return await self._session.execute(ops.ASSIGNMENT_ADD, request)

    async def delete(self, preference_id: int) -> AssignmentParticipant:
        """Withdraw the preference ``preference_id`` (an ``AssignmentParticipant.id``)."""
        return await self._session.execute(ops.ASSIGNMENT_DELETE, DeleteAssignment(preference_id))

    async def history(self) -> list[AssignmentHistoryEntry]:
        """Past changes of the account's assignment preferences."""
        return await self._session.execute(ops.ASSIGNMENT_HISTORY, NO_ARGUMENTS)
