"""Charges of a round trip, ESTIMATED with the paper exchange's schedule.

The brokers' contract notes are the real figures; the app does not read them.
Each leg is priced as one executed order at the round trip's average price with
`paper.charges.charges_for` (NSE equity rates, settings.PAPER_CHARGES): a
delivery round trip (STCG/LTCG) at the delivery rates, anything closed the same
day at the intraday rates (brokers charge a same-day CNC square-off as intraday).
The paper schedule has no F&O rates, so an F&O round trip is priced here with a
discount broker's published NSE F&O schedule (late 2024; FNO_RATES): ₹20 per
executed order, STT on the sell side (options 0.1% of the premium, futures
0.02%), exchange charges (options 0.03503% of the premium, futures 0.00173%),
stamp duty on the buy side (options 0.003%, futures 0.002%), with the paper
schedule's SEBI fee and GST. An option is a symbol ending CE/PE; anything else on
a derivatives exchange (currency, commodity too) is priced as a future. Every
figure is labelled an estimate on the pages and in the export.
"""

from __future__ import annotations

from decimal import Decimal

from paper.charges import charges_for, schedule

from .matching import FNO, LONG, LTCG, STCG, Match

LABEL = "Charges (estimated)"

FNO_RATES = {
    "option": {
        "brokerage_rate": "1",  # capped: ₹20 per executed order
        "brokerage_max": "20",
        "stt_buy": "0",
        "stt_sell": "0.001",
        "stamp_buy": "0.00003",
        "exchange_rate": "0.0003503",
    },
    "future": {
        "brokerage_rate": "1",
        "brokerage_max": "20",
        "stt_buy": "0",
        "stt_sell": "0.0002",
        "stamp_buy": "0.00002",
        "exchange_rate": "0.0000173",
    },
}


def is_option(symbol: str) -> bool:
    return symbol.upper().endswith(("CE", "PE"))


def fno_table(table: dict, symbol: str) -> dict:
    """The schedule with its intraday rates replaced by the F&O ones of `symbol`."""
    rates = dict(FNO_RATES["option" if is_option(symbol) else "future"])
    return {**table, "exchange_rate": rates.pop("exchange_rate"), "intraday": rates}


def estimate(match: Match, *, table: dict | None = None) -> Decimal:
    """The estimated charges of both legs; `table` the schedule, read once by a caller
    estimating many round trips."""
    table = table or schedule()
    product = "CNC" if match.classification in (STCG, LTCG) else "MIS"
    if match.classification == FNO:
        table = fno_table(table, match.symbol)
    opening, closing = ("BUY", "SELL") if match.direction == LONG else ("SELL", "BUY")
    total = Decimal("0")
    for side, price in ((opening, match.open_average), (closing, match.close_average)):
        if price > 0:
            total += charges_for(
                side=side, quantity=match.quantity, price=price, product=product, table=table
            ).total
    return total
