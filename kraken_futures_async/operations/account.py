"""Account administration requests: preferences, transfers, subaccounts, the assignment
program, RFQ offers and portfolio simulations."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

import attrs

from ..errors import InvalidArgumentError
from ..models import AssignmentTimeFrame, SelfTradeStrategy, SimulatedPosition
from .checks import (
    Number,
    check_bool,
    check_number,
    check_symbol,
    check_text,
    optional_number,
    optional_text,
    required_bool,
)

__all__ = [
    "AddAssignment",
    "DeleteAssignment",
    "OfferPrices",
    "RfqQuery",
    "SetLeveragePreference",
    "SetPnlPreference",
    "SetSelfTradeStrategy",
    "SetSubaccountTrading",
    "SimulatePortfolio",
    "SubaccountQuery",
    "SubaccountTransfer",
    "WalletTransfer",
    "WithdrawalToSpot",
]


@attrs.frozen(init=False)
class SetLeveragePreference:
    """Isolated margin at ``max_leverage`` for ``symbol``; ``None`` means cross margin."""

    symbol: str
    max_leverage: Decimal | None

    def __init__(self, symbol: str, max_leverage: Number | None) -> None:
        self.__attrs_init__(
            symbol=check_symbol(symbol),
            max_leverage=optional_number("max_leverage", max_leverage),
        )


@attrs.frozen(init=False)
class SetPnlPreference:
    """The currency ``symbol``'s profit and loss is realised in."""

    symbol: str
    pnl_preference: str

    def __init__(self, symbol: str, currency: str) -> None:
        self.__attrs_init__(
            symbol=check_symbol(symbol), pnl_preference=check_text("currency", currency)
        )


@attrs.frozen(init=False)
class SetSelfTradeStrategy:
    """What happens when two of the account's orders would match."""

    strategy: SelfTradeStrategy

    def __init__(self, strategy: SelfTradeStrategy | str) -> None:
        chosen = SelfTradeStrategy(strategy)
        if chosen is SelfTradeStrategy.UNKNOWN:
            known = ", ".join(
                s.value for s in SelfTradeStrategy if s is not SelfTradeStrategy.UNKNOWN
            )
            raise InvalidArgumentError(f"strategy must be one of {known}; got {strategy!r}")
        self.__attrs_init__(strategy=chosen)


@attrs.frozen(init=False)
class WalletTransfer:
    """``amount`` of ``unit`` from one of the account's wallets to another."""

    from_account: str
    to_account: str
    unit: str
    amount: Decimal

    def __init__(self, *, from_account: str, to_account: str, unit: str, amount: Number) -> None:
        self.__attrs_init__(
            from_account=check_text("from_account", from_account),
            to_account=check_text("to_account", to_account),
            unit=check_text("unit", unit),
            amount=check_number("amount", amount),
        )


@attrs.frozen(init=False)
class SubaccountTransfer:
    """Funds between the master account and a subaccount (users by account UID)."""

    from_user: str
    to_user: str
    from_account: str
    to_account: str
    unit: str
    amount: Decimal

    def __init__(
        self,
        *,
        from_user: str,
        to_user: str,
        from_account: str,
        to_account: str,
        unit: str,
        amount: Number,
    ) -> None:
        self.__attrs_init__(
            from_user=check_text("from_user", from_user),
            to_user=check_text("to_user", to_user),
            from_account=check_text("from_account", from_account),
            to_account=check_text("to_account", to_account),
            unit=check_text("unit", unit),
            amount=check_number("amount", amount),
        )


@attrs.frozen(init=False)
class WithdrawalToSpot:
    """Funds out to the Kraken Spot wallet (``source_wallet`` defaults to ``cash``)."""

    currency: str
    amount: Decimal
    source_wallet: str | None

    def __init__(self, *, currency: str, amount: Number, source_wallet: str | None = None) -> None:
        self.__attrs_init__(
            currency=check_text("currency", currency),
            amount=check_number("amount", amount),
            source_wallet=optional_text("source_wallet", source_wallet),
        )


@attrs.frozen(init=False)
class SubaccountQuery:
    """One subaccount, by its UID."""

    subaccount_uid: str

    def __init__(self, subaccount_uid: str) -> None:
        self.__attrs_init__(subaccount_uid=check_text("subaccount_uid", subaccount_uid))


@attrs.frozen(init=False)
class SetSubaccountTrading:
    """Allow or forbid trading on a subaccount."""

    subaccount_uid: str
    trading_enabled: bool

    def __init__(self, subaccount_uid: str, enabled: bool) -> None:
        self.__attrs_init__(
            subaccount_uid=check_text("subaccount_uid", subaccount_uid),
            trading_enabled=required_bool("enabled", enabled),
        )


@attrs.frozen(init=False)
class RfqQuery:
    """One open request for quote, by its uid."""

    rfq_uid: str

    def __init__(self, rfq_uid: str) -> None:
        self.__attrs_init__(rfq_uid=check_text("rfq_uid", rfq_uid))


@attrs.frozen(init=False)
class OfferPrices:
    """The account's offer on an RFQ: at least one side."""

    rfq_uid: str
    bid: Decimal | None
    ask: Decimal | None

    def __init__(
        self, rfq_uid: str, *, bid: Number | None = None, ask: Number | None = None
    ) -> None:
        uid = check_text("rfq_uid", rfq_uid)
        bid_price, ask_price = optional_number("bid", bid), optional_number("ask", ask)
        if bid_price is None and ask_price is None:
            raise InvalidArgumentError("an offer needs a bid, an ask, or both")
        self.__attrs_init__(rfq_uid=uid, bid=bid_price, ask=ask_price)


@attrs.frozen(init=False)
class SimulatePortfolio:
    """A hypothetical portfolio (negative sizes are short) to price under portfolio margin."""

    positions: tuple[SimulatedPosition, ...]

    def __init__(self, positions: Iterable[SimulatedPosition]) -> None:
        checked = []
        for position in positions:
            if not isinstance(position, SimulatedPosition):
                raise InvalidArgumentError("positions must be SimulatedPosition instances")
            size = check_number("size", position.size, positive=False)
            if size == 0:
                raise InvalidArgumentError("a simulated position needs a non-zero size")
            checked.append(
                SimulatedPosition(
                    instrument=check_symbol(position.instrument),
                    size=size,
                    entry_price=check_number("entry_price", position.entry_price),
                )
            )
        if not checked:
            raise InvalidArgumentError("simulate needs at least one position")
        self.__attrs_init__(positions=tuple(checked))


@attrs.frozen(init=False)
class AddAssignment:
    """An offer to take over positions of ``contract_type`` (optionally one ``contract``)."""

    contract_type: str
    contract: str | None
    max_size: Decimal | None
    max_position: Decimal | None
    accept_long: bool
    accept_short: bool
    time_frame: AssignmentTimeFrame
    enabled: bool | None

    def __init__(
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
    ) -> None:
        frame = AssignmentTimeFrame(time_frame)
        if frame is AssignmentTimeFrame.UNKNOWN:
            raise InvalidArgumentError(
                f"time_frame must be all, weekdays or weekends; got {time_frame!r}"
            )
        self.__attrs_init__(
            contract_type=check_text("contract_type", contract_type),
            contract=optional_text("contract", contract),
            max_size=optional_number("max_size", max_size),
            max_position=optional_number("max_position", max_position),
            accept_long=required_bool("accept_long", accept_long),
            accept_short=required_bool("accept_short", accept_short),
            time_frame=frame,
            enabled=check_bool("enabled", enabled),
        )


@attrs.frozen(init=False)
class DeleteAssignment:
    """Withdraw one assignment preference (an ``AssignmentParticipant.id``)."""

    preference_id: int

    def __init__(self, preference_id: int) -> None:
        if isinstance(preference_id, bool) or not isinstance(preference_id, int):
            raise InvalidArgumentError(f"preference_id must be an int, got {preference_id!r}")
        self.__attrs_init__(preference_id=preference_id)
