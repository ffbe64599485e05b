"""Portfolio margining for options: the model's parameters and what-if simulations."""

from __future__ import annotations

from collections.abc import Iterable

from ..models import PortfolioMarginingParameters, PortfolioSimulation, SimulatedPosition
from ..operations import NO_ARGUMENTS
from ..operations import catalog as ops
from ..operations.account import SimulatePortfolio
from ._base import Resource

__all__ = ["PortfolioResource"]


class PortfolioResource(Resource):
    """``kf.portfolio``: portfolio-margining parameters and simulations."""

    async def margining_parameters(self) -> PortfolioMarginingParameters:
        """The account's portfolio-margining parameters."""
        return await self._session.execute(ops.PORTFOLIO_MARGINING_PARAMETERS, NO_ARGUMENTS)

    async def simulate(self, positions: Iterable[SimulatedPosition]) -> PortfolioSimulation:
        """Margin, PnL and greeks of a hypothetical portfolio (negative sizes are short)."""
        return await self._session.execute(ops.SIMULATE_PORTFOLIO, SimulatePortfolio(positions))
