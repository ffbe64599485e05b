"""The twin's listing: which contracts exist and their hand-set specifications.

Majors carry Kraken's live specifications (reference §7: tick sizes, size precision, position
limits, margin tiers); the long tail of linear perpetuals gets specifications derived from its
price level the way Kraken's listings look (about five significant price digits, a size step
worth cents to a few dollars). Prices are nominal levels; the seed moves them a little.
"""

from __future__ import annotations

__all__ = ["INVERSE", "MAJORS", "TAIL", "Major", "tail_entries"]

# symbol base, instrument base, price, tick, cVTP, maxPositionSize, tier preset, category,
# annual volatility, daily volume in USD (millions), synthetic depth per level in USD (thousands)
Major = tuple[str, str, float, str, int, str, str, str, float, float, float]

MAJORS: tuple[Major, ...] = (
    ("XBT", "BTC", 91000.0, "1", 4, "1200", "major", "Layer 1", 0.50, 900.0, 60.0),
    ("ETH", "ETH", 3100.0, "0.1", 3, "20000", "major", "Layer 1", 0.65, 450.0, 40.0),
    ("SOL", "SOL", 140.0, "0.01", 2, "250000", "large", "Layer 1", 0.80, 150.0, 20.0),
    ("XRP", "XRP", 2.2, "0.0001", 0, "20000000", "large", "Layer 1", 0.80, 90.0, 15.0),
    ("DOGE", "DOGE", 0.16, "0.00001", 0, "200000000", "large", "Community", 0.95, 70.0, 15.0),
    ("ADA", "ADA", 0.45, "0.000001", 0, "50000000", "large", "Layer 1", 0.85, 30.0, 8.0),
    ("LTC", "LTC", 85.0, "0.01", 2, "150000", "large", "Layer 1", 0.75, 25.0, 8.0),
    ("LINK", "LINK", 13.0, "0.001", 1, "1500000", "large", "DeFi", 0.85, 25.0, 8.0),
    ("AVAX", "AVAX", 14.0, "0.001", 1, "1200000", "large", "Layer 1", 0.90, 20.0, 6.0),
    ("DOT", "DOT", 2.6, "0.0001", 1, "5000000", "large", "Layer 1", 0.90, 15.0, 6.0),
    ("BCH", "BCH", 520.0, "0.1", 2, "30000", "large", "Layer 1", 0.75, 15.0, 6.0),
    ("SUI", "SUI", 1.6, "0.0001", 1, "8000000", "large", "Layer 1", 1.00, 30.0, 6.0),
    ("TRX", "TRX", 0.28, "0.00001", 0, "60000000", "large", "Layer 1", 0.60, 10.0, 5.0),
    ("NEAR", "NEAR", 2.0, "0.0001", 1, "6000000", "mid", "Layer 1", 1.00, 8.0, 4.0),
    ("UNI", "UNI", 6.0, "0.001", 1, "2000000", "mid", "DeFi", 1.00, 8.0, 4.0),
    ("AAVE", "AAVE", 180.0, "0.01", 2, "60000", "mid", "DeFi", 0.95, 10.0, 4.0),
    (
        "PEPE",
        "PEPE",
        0.0000045,
        "0.0000000001",
        -3,
        "2000000000000",
        "mid",
        "Community",
        1.20,
        40.0,
        8.0,
    ),
    ("PENGU", "PENGU", 0.012, "0.000001", -1, "1500000000", "mid", "Community", 1.30, 20.0, 5.0),
    (
        "SHIB",
        "SHIB",
        0.0000085,
        "0.0000000001",
        -3,
        "1500000000000",
        "mid",
        "Community",
        1.00,
        8.0,
        4.0,
    ),
    (
        "BONK",
        "BONK",
        0.000012,
        "0.0000000001",
        -2,
        "1000000000000",
        "mid",
        "Community",
        1.30,
        10.0,
        4.0,
    ),
    ("WIF", "WIF", 0.45, "0.00001", 0, "40000000", "mid", "Community", 1.40, 15.0, 4.0),
    ("HYPE", "HYPE", 35.0, "0.001", 1, "500000", "mid", "Layer 1", 1.10, 40.0, 8.0),
    ("TAO", "TAO", 300.0, "0.01", 2, "40000", "mid", "Layer 1", 1.10, 10.0, 4.0),
    ("XLM", "XLM", 0.25, "0.00001", 0, "60000000", "mid", "Layer 1", 0.80, 6.0, 3.0),
)

#: Inverse (coin-margined, 1 contract = 1 USD) bases: symbol base, instrument base, tick size.
INVERSE: tuple[tuple[str, str, str], ...] = (
    ("XBT", "BTC", "0.5"),
    ("ETH", "ETH", "0.05"),
    ("LTC", "LTC", "0.01"),
    ("XRP", "XRP", "0.0001"),
)

# The long tail: "BASE:price" pairs, prices as nominal USD levels.
_TAIL_TEXT = """
APT:2.5 ARB:0.25 OP:0.35 FIL:1.6 INJ:6 ETC:14 HBAR:0.15 ICP:3.5 VET:0.015 MKR:1400
ATOM:3.1 SEI:0.15 TIA:0.9 RENDER:1.9 GRT:0.05 IMX:0.35 STX:0.4 ALGO:0.14 EGLD:9 S:0.15
SAND:0.17 MANA:0.18 AXS:1.1 APE:0.4 CHZ:0.03 CRV:0.45 LDO:0.7 SNX:0.6 COMP:32 DYDX:0.25
GMX:9 1INCH:0.2 ENS:11 BLUR:0.05 FLOKI:0.00006 TRUMP:6 JUP:0.3 PYTH:0.1 JTO:1.1 ONDO:0.6
ENA:0.3 ETHFI:0.9 W:0.06 STRK:0.11 ZK:0.05 ZRO:1.6 BLAST:0.002 FET:0.25 WLD:0.7 AR:5
KAS:0.05 TON:1.7 NOT:0.0015 MOVE:0.04 VIRTUAL:1.1 POPCAT:0.12 MEW:0.0015 BOME:0.0009
ORDI:4.5 RUNE:0.7 KSM:10 ZEC:380 DASH:55 EOS:0.5 XTZ:0.55 NEO:4 QTUM:1.8 ZIL:0.007
ICX:0.09 ONT:0.07 IOTA:0.12 THETA:0.35 FLOW:0.2 MINA:0.12 KAVA:0.25 ROSE:0.02 CELO:0.2
ANKR:0.01 BAT:0.14 ZRX:0.15 SUSHI:0.45 YFI:4500 BAL:0.8 KNC:0.25 LRC:0.06 STORJ:0.15
SKL:0.02 CELR:0.005 CHR:0.07 AUDIO:0.04 GALA:0.009 ENJ:0.05 ILV:9 YGG:0.08 MAGIC:0.1
GMT:0.03 LPT:4 MASK:0.8 OGN:0.05 RLC:0.8 BAND:0.5 API3:0.7 UMA:1.1 PERP:0.2 RPL:3
SSV:6 FXS:1.5 CVX:2 LQTY:0.6 PENDLE:2.8 ARKM:0.35 CYBER:0.9 ID:0.1 EDU:0.12 MEME:0.002
ORCA:1.8 RAY:1.7 BNB:900 POL:0.18 FARTCOIN:0.3 AI16Z:0.07 GOAT:0.06 PNUT:0.15 ACT:0.03
CHILLGUY:0.03 MOODENG:0.1 NEIRO:0.0003 TURBO:0.0025 BRETT:0.02 MOG:0.0000004 SPX:0.6
GIGA:0.008 DOG:0.0015 SATS:0.00000004 RSR:0.005 ACH:0.015 ALICE:0.3 ALPHA:0.015 AMP:0.003
ANT:3 ASTR:0.02 AUCTION:6 BADGER:0.8 BICO:0.08 BIGTIME:0.04 BNT:0.5 C98:0.04 CAKE:2.3
CFX:0.08 CKB:0.003 COTI:0.03 CTSI:0.05 CVC:0.06 DENT:0.0007 DGB:0.006 ENTRN:0.01 ERN:0.5
FLR:0.012 FLUX:0.15 GAL:1.5 GLM:0.2 GNO:120 HFT:0.04 HIGH:0.3 HNT:2.2 HOT:0.0008
ILLUV:5 IOTX:0.015 JASMY:0.01 JOE:0.12 KDA:0.3 KEY:0.002 LINA:0.002 LOOM:0.03 LSK:0.3
LUNA:0.12 LUNC:0.00004 METIS:9 MTL:0.6 NKN:0.02 NMR:9 OCEAN:0.3 OXT:0.04 PEOPLE:0.01
PHB:0.4 POLYX:0.1 POWR:0.1 QNT:85 REQ:0.1 REZ:0.006 RIF:0.04 SC:0.0025 SFP:0.5 SLP:0.001
SUN:0.02 SXP:0.15 SYN:0.1 T:0.012 TLM:0.004 TRB:25 TWT:0.8 UNFI:0.2 USTC:0.01 WAXP:0.02
WOO:0.05 XAI:0.03 XEM:0.01 XVG:0.005 XVS:5 YFII:200 ZEN:9 ZETA:0.12 ACE:0.4 AEVO:0.07
AGLD:0.6 ALT:0.02 ARPA:0.02 BAKE:0.1 BEL:0.3 BLZ:0.05 BOND:1.2 COMBO:0.3 DAR:0.1
DODO:0.04 DUSK:0.05 FIDA:0.08 FORTH:2.5 GTC:0.3 IDEX:0.03 JST:0.03 KAITO:1.2 LEVER:0.0003
LIT:0.6 LOKA:0.05 MAV:0.03 MBOX:0.05 NFP:0.06 NTRN:0.1 ONE:0.01 PIXEL:0.02 PORTAL:0.04
PRIME:1.5 RDNT:0.02 SAGA:0.2 SANTOS:2 STG:0.2 TNSR:0.15 VANRY:0.02 VOXEL:0.05 WLFI:0.15
"""


def tail_entries() -> list[tuple[str, float]]:
    """The long tail as (base, nominal price), in listing order, without duplicates."""
    seen: set[str] = set()
    entries: list[tuple[str, float]] = []
    for item in _TAIL_TEXT.split():
        base, price = item.split(":")
        if base not in seen:
            seen.add(base)
            entries.append((base, float(price)))
    return entries


TAIL: tuple[tuple[str, float], ...] = tuple(tail_entries())
