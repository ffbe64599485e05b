"""Portfolio margining for options: the model's parameters and what-if simulations."""

from __future__ import annotations

from collections.abc import Iterable

from .._values import format_decimal
from ..errors import InvalidArgumentError
from ..models import PortfolioMarginingParameters, PortfolioSimulation, SimulatedPosition
from ..rest.endpoints import endpoint
from ..rest.wire import encode_params
from ._base import Resource
from ._order_args import check_number, check_symbol

__all__ = ["PortfolioResource", "portfolio_json"]

_PARAMETERS = endpoint("portfolio_margining_parameters")
_SIMULATE = endpoint("simulate_portfolio")


def portfolio_json(positions: Iterable[SimulatedPosition]) -> str:
    """``{"positions":[{"instrument":..,"size":..,"entryPrice":..}]}`` with exact numbers."""
    items = []
    for position in positions:
        if not isinstance(position, SimulatedPosition):
            raise InvalidArgumentError("positions must be SimulatedPosition instances")
        size = check_number("size", position.size, positive=False)
        if size == 0:
            raise InvalidArgumentError("a simulated position needs a non-zero size")
        price = check_number("entry_price", position.entry_price)
        instrument = check_symbol(position.instrument)
        items.append(
            f'{{"instrument":"{instrument}","size":{format_decimal(size)},'
            f'"entryPrice":{format_decimal(price)}}}'
        )
    if not items:
        raise InvalidArgumentError("simulate needs at least one position")
    return '{"positions":[' + ",".join(items) + "]}"


class PortfolioResource(Resource):
    async def margining_parameters(self) -> PortfolioMarginingParameters:
        result: PortfolioMarginingParameters = await self._backend.call(_PARAMETERS)
        return result

    async def simulate(self, positions: Iterable[SimulatedPosition]) -> PortfolioSimulation:
        """Margin, PnL and greeks of a hypothetical portfolio (negative sizes are short)."""
        params = encode_params({"json": portfolio_json(positions)})
        result: PortfolioSimulation = await self._backend.call(_SIMULATE, params)
        return result
