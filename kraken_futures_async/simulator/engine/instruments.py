"""Contract specifications: what can be traded, in which steps, against which margin.

Built once per Exchange from the catalogue and the seed. Dated contracts (``FF_``/``FI_``) are
listed for the next expiries after the clock's time at start, as Kraken lists them (last
Friday of the month; linear ones stop trading at 08:00 UTC, inverse ones at 16:00 UTC).
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ._noise import key_of, signed_unit, unit
from ._text import iso_s
from .catalogue import INVERSE, MAJORS, TAIL

__all__ = [
    "FLEXIBLE",
    "INVERSE_KIND",
    "IndexSpec",
    "InstrumentSpec",
    "Listing",
    "MarginTier",
    "build_listing",
    "instrument_payload",
]

FLEXIBLE = "flexible_futures"
INVERSE_KIND = "futures_inverse"


@dataclass(frozen=True, slots=True)
class MarginTier:
    """Rates that apply to the part of a position above ``threshold`` (USD or contracts)."""

    threshold: Decimal
    initial: Decimal
    maintenance: Decimal


@dataclass(frozen=True, slots=True)
class IndexSpec:
    """One underlying's index price series (shared by all contracts on that base)."""

    base: str
    price: float
    volatility: float


@dataclass(frozen=True, slots=True)
class InstrumentSpec:
    symbol: str
    kind: str
    base: str
    asset: str
    tick: Decimal
    precision: int
    size_step: Decimal
    max_position: Decimal
    impact_mid_size: Decimal
    tiers: tuple[MarginTier, ...]
    opening: float
    expiry: float | None
    tag: str
    category: str
    funding_coefficient: Decimal | None
    max_relative_funding: Decimal | None
    margin_account: str | None
    daily_volume_usd: float
    level_usd: float
    trade_chance: float
    spread: float
    level_gap: float

    @property
    def inverse(self) -> bool:
        return self.kind == INVERSE_KIND

    @property
    def perpetual(self) -> bool:
        return self.expiry is None


@dataclass(frozen=True, slots=True)
class Listing:
    instruments: dict[str, InstrumentSpec]
    indices: dict[str, IndexSpec]


def _tiers(rows: tuple[tuple[int, str, str], ...]) -> tuple[MarginTier, ...]:
    return tuple(MarginTier(Decimal(t), Decimal(im), Decimal(mm)) for t, im, mm in rows)


_TIERS: dict[str, tuple[MarginTier, ...]] = {
    "major": _tiers(
        (
            (0, "0.01", "0.005"),
            (1_000_000, "0.02", "0.01"),
            (3_000_000, "0.04", "0.02"),
            (5_000_000, "0.1", "0.05"),
            (10_000_000, "0.2", "0.1"),
            (25_000_000, "0.5", "0.25"),
        )
    ),
    "large": _tiers(
        (
            (0, "0.02", "0.01"),
            (500_000, "0.04", "0.02"),
            (1_000_000, "0.1", "0.05"),
            (3_000_000, "0.2", "0.1"),
            (5_000_000, "0.5", "0.25"),
        )
    ),
    "mid": _tiers(
        (
            (0, "0.05", "0.025"),
            (250_000, "0.1", "0.05"),
            (1_000_000, "0.2", "0.1"),
            (3_000_000, "0.5", "0.25"),
        )
    ),
    "tail": _tiers(
        (
            (0, "0.1", "0.05"),
            (100_000, "0.2", "0.1"),
            (500_000, "0.33", "0.165"),
            (1_000_000, "0.5", "0.25"),
        )
    ),
    "inverse_xbt": _tiers(
        (
            (0, "0.02", "0.01"),
            (500_000, "0.04", "0.02"),
            (2_000_000, "0.1", "0.05"),
            (5_000_000, "0.2", "0.1"),
            (20_000_000, "0.5", "0.25"),
        )
    ),
    "inverse": _tiers(
        (
            (0, "0.04", "0.02"),
            (250_000, "0.1", "0.05"),
            (1_000_000, "0.2", "0.1"),
            (5_000_000, "0.5", "0.25"),
        )
    ),
}

_DAY = 86_400.0
_FUNDING_COEFFICIENT = Decimal(8)
_MAX_RELATIVE_FUNDING = Decimal("0.0025")


def _tick_for(price: float) -> Decimal:
    """About five significant digits of price."""
    return Decimal(1).scaleb(math.floor(math.log10(price)) - 4)


def _precision_for(price: float) -> int:
    """Size decimals so that one step is worth cents to a few dollars."""
    for bound, precision in ((1e4, 4), (1e3, 3), (1e2, 2), (10.0, 1), (0.05, 0)):
        if price >= bound:
            return precision
    if price >= 1e-3:
        return -1
    if price >= 1e-5:
        return -2
    return -3


def _round_position(usd: float, price: float, step: Decimal) -> Decimal:
    """A position limit worth about ``usd``, two significant digits, a whole number of steps."""
    raw = usd / price
    digits = math.floor(math.log10(raw)) - 1
    rounded = Decimal(round(raw / 10**digits)).scaleb(digits)
    return max(step, (rounded // step) * step)


def _opening(seed: int, name: str, start: dt.date, span_days: int) -> float:
    offset = int(unit(key_of(seed, "opening", name), 0) * span_days)
    day = start + dt.timedelta(days=offset)
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp()


def _last_friday(year: int, month: int) -> dt.date:
    last = dt.date(year, month, calendar.monthrange(year, month)[1])
    return last - dt.timedelta(days=(last.weekday() - 4) % 7)


def _expiries(now: float, hour: int) -> tuple[list[float], float | None]:
    """The next two quarterly expiries after ``now`` and the next monthly one before them."""
    moment = dt.datetime.fromtimestamp(now, dt.UTC)
    year, month = moment.year, moment.month
    quarterly: list[float] = []
    monthly: float | None = None
    while len(quarterly) < 2:
        day = _last_friday(year, month)
        at = dt.datetime(day.year, day.month, day.day, hour, tzinfo=dt.UTC).timestamp()
        if at > now:
            if month % 3 == 0:
                quarterly.append(at)
            elif monthly is None and not quarterly:
                monthly = at
        month += 1
        if month > 12:
            year, month = year + 1, 1
    return quarterly, monthly


def _dated_symbol(prefix: str, base: str, expiry: float) -> str:
    return f"{prefix}_{base}USD_{dt.datetime.fromtimestamp(expiry, dt.UTC):%y%m%d}"


def _jitter(seed: int, name: str, spread: float) -> float:
    return 1.0 + spread * signed_unit(key_of(seed, "jitter", name), 0)


def build_listing(seed: int, now: float) -> Listing:
    """Every instrument, in listing order, and the index series behind them."""
    indices: dict[str, IndexSpec] = {}
    instruments: dict[str, InstrumentSpec] = {}

    def add_index(base: str, price: float, volatility: float) -> None:
        indices[base] = IndexSpec(base, price * _jitter(seed, base, 0.05), volatility)

    major_start = dt.date(2022, 5, 3)
    for (
        base,
        asset,
        price,
        tick,
        precision,
        max_pos,
        preset,
        category,
        vol,
        volume,
        depth,
    ) in MAJORS:
        add_index(base, price, vol)
        symbol = f"PF_{base}USD"
        instruments[symbol] = InstrumentSpec(
            symbol=symbol,
            kind=FLEXIBLE,
            base=base,
            asset=asset,
            tick=Decimal(tick),
            precision=precision,
            size_step=Decimal(1).scaleb(-precision),
            max_position=Decimal(max_pos),
            impact_mid_size=Decimal(1),
            tiers=_TIERS[preset],
            opening=_opening(seed, symbol, major_start, 120),
            expiry=None,
            tag="perpetual",
            category=category,
            funding_coefficient=_FUNDING_COEFFICIENT,
            max_relative_funding=_MAX_RELATIVE_FUNDING,
            margin_account=None,
            daily_volume_usd=volume * 1e6 * _jitter(seed, symbol + "/v", 0.3),
            level_usd=depth * 1e3,
            trade_chance=0.9 if preset == "major" else 0.6,
            spread=0.00001 if preset == "major" else 0.0001,
            level_gap=0.00002 if preset == "major" else 0.0002,
        )

    tail_start = dt.date(2022, 9, 1)
    for base, price in TAIL:
        stream = key_of(seed, "tail", base)
        vol = 0.8 + 0.7 * unit(stream, 1)
        add_index(base, price, vol)
        symbol = f"PF_{base}USD"
        precision = _precision_for(price)
        step = Decimal(1).scaleb(-precision)
        instruments[symbol] = InstrumentSpec(
            symbol=symbol,
            kind=FLEXIBLE,
            base=base,
            asset=base,
            tick=_tick_for(price),
            precision=precision,
            size_step=step,
            max_position=_round_position(5e6, price, step),
            impact_mid_size=Decimal(1),
            tiers=_TIERS["tail"],
            opening=_opening(seed, symbol, tail_start, 1000),
            expiry=None,
            tag="perpetual",
            category=("Layer 1", "Layer 2", "DeFi", "Community", "")[int(unit(stream, 2) * 5)],
            funding_coefficient=_FUNDING_COEFFICIENT,
            max_relative_funding=_MAX_RELATIVE_FUNDING,
            margin_account=None,
            daily_volume_usd=(0.5 + 9.5 * unit(stream, 3)) * 1e6,
            level_usd=1000.0 + 3000.0 * unit(stream, 4),
            trade_chance=0.1 + 0.2 * unit(stream, 5),
            spread=0.0004,
            level_gap=0.0006,
        )

    _add_dated_linear(instruments, seed, now)
    _add_inverse(instruments, seed, now)
    return Listing(instruments=instruments, indices=indices)


def _add_dated_linear(instruments: dict[str, InstrumentSpec], seed: int, now: float) -> None:
    quarterly, monthly = _expiries(now, 8)
    plan: list[tuple[str, float, str]] = [("XBT", quarterly[0], "quarter")]
    if monthly is not None:
        plan.append(("XBT", monthly, "month"))
    plan += [("XBT", quarterly[1], "quarter"), ("ETH", quarterly[0], "quarter")]
    plan += [("ETH", quarterly[1], "quarter"), ("SOL", quarterly[0], "quarter")]
    for base, expiry, tag in plan:
        perp = instruments[f"PF_{base}USD"]
        symbol = _dated_symbol("FF", base, expiry)
        instruments[symbol] = InstrumentSpec(
            symbol=symbol,
            kind=FLEXIBLE,
            base=base,
            asset=perp.asset,
            tick=perp.tick,
            precision=perp.precision,
            size_step=perp.size_step,
            max_position=perp.max_position,
            impact_mid_size=Decimal(1),
            tiers=_TIERS["large"],
            opening=expiry - (95 if tag == "quarter" else 35) * _DAY,
            expiry=expiry,
            tag=tag,
            category=perp.category,
            funding_coefficient=None,
            max_relative_funding=None,
            margin_account=None,
            daily_volume_usd=perp.daily_volume_usd / 40,
            level_usd=perp.level_usd / 4,
            trade_chance=0.2,
            spread=0.0002,
            level_gap=0.0003,
        )


def _add_inverse(instruments: dict[str, InstrumentSpec], seed: int, now: float) -> None:
    quarterly, _ = _expiries(now, 16)
    for base, asset, tick in INVERSE:
        perp = instruments[f"PF_{base}USD"]
        dated: list[tuple[float | None, str]] = [(None, "perpetual")]
        if base in ("XBT", "ETH"):
            dated += [(quarterly[0], "quarter"), (quarterly[1], "quarter")]
        for expiry, tag in dated:
            if expiry is None:
                symbol = f"PI_{base}USD"
                opening = _opening(seed, symbol, dt.date(2018, 8, 31), 30)
            else:
                symbol = _dated_symbol("FI", base, expiry)
                opening = expiry - 95 * _DAY
            instruments[symbol] = InstrumentSpec(
                symbol=symbol,
                kind=INVERSE_KIND,
                base=base,
                asset=asset,
                tick=Decimal(tick),
                precision=0,
                size_step=Decimal(1),
                max_position=Decimal(75_000_000 if base == "XBT" else 20_000_000),
                impact_mid_size=Decimal(1000),
                tiers=_TIERS["inverse_xbt" if base == "XBT" else "inverse"],
                opening=opening,
                expiry=expiry,
                tag=tag,
                category="",
                funding_coefficient=_FUNDING_COEFFICIENT if expiry is None else None,
                max_relative_funding=_MAX_RELATIVE_FUNDING if expiry is None else None,
                margin_account=f"fi_{base.lower()}usd",
                daily_volume_usd=perp.daily_volume_usd / (8 if expiry is None else 60),
                level_usd=perp.level_usd / 3,
                trade_chance=0.5 if expiry is None else 0.15,
                spread=0.00005 if base == "XBT" else 0.0002,
                level_gap=0.0001 if base == "XBT" else 0.0003,
            )


def instrument_payload(spec: InstrumentSpec, now: float) -> dict[str, Any]:
    """One ``/instruments`` element."""
    if spec.inverse:
        levels: list[dict[str, Any]] = [
            {
                "contracts": int(t.threshold),
                "initialMargin": t.initial,
                "maintenanceMargin": t.maintenance,
            }
            for t in spec.tiers
        ]
    else:
        levels = [
            {
                "numNonContractUnits": t.threshold,
                "initialMargin": t.initial,
                "maintenanceMargin": t.maintenance,
            }
            for t in spec.tiers
        ]
    payload: dict[str, Any] = {
        "symbol": spec.symbol,
        "type": spec.kind,
        "tradeable": spec.expiry is None or now < spec.expiry,
    }
    if spec.inverse:
        payload["underlying"] = f"rr_{spec.base.lower()}usd"
    payload.update(
        {
            "tickSize": spec.tick,
            "contractSize": Decimal(1),
            "impactMidSize": spec.impact_mid_size,
            "maxPositionSize": spec.max_position,
            "openingDate": iso_s(spec.opening),
            "marginLevels": levels,
            "retailMarginLevels": [dict(level) for level in levels],
        }
    )
    if spec.expiry is not None:
        payload["lastTradingTime"] = iso_s(spec.expiry)
    if spec.funding_coefficient is not None:
        payload["fundingRateCoefficient"] = spec.funding_coefficient
        payload["maxRelativeFundingRate"] = spec.max_relative_funding
    payload.update(
        {
            "contractValueTradePrecision": spec.precision,
            "postOnly": False,
            "category": spec.category,
            "tags": [],
            "pair": f"{spec.asset}:USD",
            "base": spec.asset,
            "quote": "USD",
            "tradfi": False,
            "mtf": False,
        }
    )
    return payload
