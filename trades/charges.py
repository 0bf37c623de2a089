"""Charges of a round trip, ESTIMATED with the paper exchange's schedule.

The brokers' contract notes are the real figures; the app does not read them.
Each leg is priced as one executed order at the round trip's average price with
`paper.charges.charges_for` (NSE equity rates, settings.PAPER_CHARGES): a
delivery round trip (STCG/LTCG) at the delivery rates, anything closed the same
day at the intraday rates (brokers charge a same-day CNC square-off as intraday),
and F&O at the intraday equity rates too — which is why every figure is
labelled an estimate on the pages and in the export.
"""

from __future__ import annotations

from decimal import Decimal

from paper.charges import charges_for, schedule

from .matching import LONG, LTCG, STCG, Match

LABEL = "Charges (estimated)"


def estimate(match: Match, *, table: dict | None = None) -> Decimal:
    """The estimated charges of both legs; `table` the schedule, read once by a caller
    estimating many round trips."""
    table = table or schedule()
    product = "CNC" if match.classification in (STCG, LTCG) else "MIS"
    opening, closing = ("BUY", "SELL") if match.direction == LONG else ("SELL", "BUY")
    total = Decimal("0")
    for side, price in ((opening, match.open_average), (closing, match.close_average)):
        if price > 0:
            total += charges_for(
                side=side, quantity=match.quantity, price=price, product=product, table=table
            ).total
    return total
