"""Indian equity charges for simulated trades, from a configurable schedule.

Rates are fractions of turnover (price x quantity). The default schedule is a
discount broker's on NSE equity (late 2024); settings.PAPER_CHARGES overrides
any key, e.g. {"intraday": {"brokerage_max": "0"}}.

    brokerage   delivery: 0; intraday: min(rate x turnover, cap) per executed order leg
    STT         delivery: 0.1% on buy and sell; intraday: 0.025% on the sell side
    exchange    NSE transaction charge, 0.00297% of turnover
    SEBI fee    Rs 10 per crore (0.0001%)
    stamp duty  buy side only: delivery 0.015%, intraday 0.003%
    GST         18% of (brokerage + exchange charge + SEBI fee)

Each component is rounded to the paisa; the total is their sum.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings

PAISA = Decimal("0.01")

DEFAULT_SCHEDULE = {
    "delivery": {
        "brokerage_rate": "0",
        "brokerage_max": "0",
        "stt_buy": "0.001",
        "stt_sell": "0.001",
        "stamp_buy": "0.00015",
    },
    "intraday": {
        "brokerage_rate": "0.0003",
        "brokerage_max": "20",
        "stt_buy": "0",
        "stt_sell": "0.00025",
        "stamp_buy": "0.00003",
    },
    "exchange_rate": "0.0000297",
    "sebi_rate": "0.000001",
    "gst_rate": "0.18",
}


def schedule() -> dict:
    merged = copy.deepcopy(DEFAULT_SCHEDULE)
    for key, value in (getattr(settings, "PAPER_CHARGES", None) or {}).items():
        if isinstance(value, dict):
            merged.setdefault(key, {}).update(value)
        else:
            merged[key] = value
    return merged


@dataclass(frozen=True)
class Charges:
    brokerage: Decimal
    stt: Decimal
    exchange: Decimal
    sebi: Decimal
    stamp: Decimal
    gst: Decimal

    @property
    def total(self) -> Decimal:
        return self.brokerage + self.stt + self.exchange + self.sebi + self.stamp + self.gst

    def as_dict(self) -> dict[str, str]:
        return {
            "brokerage": str(self.brokerage),
            "stt": str(self.stt),
            "exchange": str(self.exchange),
            "sebi": str(self.sebi),
            "stamp": str(self.stamp),
            "gst": str(self.gst),
            "total": str(self.total),
        }


def _paisa(value: Decimal) -> Decimal:
    return value.quantize(PAISA, rounding=ROUND_HALF_UP)


def charges_for(
    *, side: str, quantity: int, price: Decimal, product: str, table: dict | None = None
) -> Charges:
    """Charges of one executed leg. CNC is delivery; MIS (and NRML equity) intraday.
    `table`: a `schedule()` already read, for a caller pricing many legs at once."""
    table = table or schedule()
    kind = table["delivery"] if product == "CNC" else table["intraday"]
    turnover = Decimal(price) * quantity
    buying = side == "BUY"
    brokerage = turnover * Decimal(kind["brokerage_rate"])
    cap = Decimal(kind["brokerage_max"])
    if cap > 0:
        brokerage = min(brokerage, cap)
    brokerage = _paisa(brokerage)
    stt = _paisa(turnover * Decimal(kind["stt_buy" if buying else "stt_sell"]))
    exchange = _paisa(turnover * Decimal(table["exchange_rate"]))
    sebi = _paisa(turnover * Decimal(table["sebi_rate"]))
    stamp = _paisa(turnover * Decimal(kind["stamp_buy"])) if buying else Decimal("0.00")
    gst = _paisa((brokerage + exchange + sebi) * Decimal(table["gst_rate"]))
    return Charges(brokerage, stt, exchange, sebi, stamp, gst)
