"""The P&L as CSV or XLSX: one row per round trip, tax-ready columns.

Charges are the app's estimate (trades/charges.py) and the column says so. Text
cells that a spreadsheet would run as a formula (=, +, -, @ first) are written
with a leading apostrophe. The XLSX (openpyxl, write-only) adds a summary sheet
per classification.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from decimal import Decimal
from itertools import chain

from .charges import LABEL as CHARGES_LABEL
from .matching import fy_label
from .models import RoundTrip, UnmatchedSale
from .stats import by

HEADER = [
    "Financial year",
    "Account",
    "Exchange",
    "Symbol",
    "Product class",
    "Direction",
    "Quantity",
    "Open date",
    "Close date",
    "Open average",
    "Close average",
    "Buy value",
    "Sell value",
    "Gross P&L",
    CHARGES_LABEL,
    "Net P&L (estimated)",
    "Classification",
    "Opening lot",
    "Grandfathered (31 Jan 2018)",
    "Strategy / source",
    "Note",
]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
RUPEES = '"₹"#,##0.00;-"₹"#,##0.00'  # the XLSX number format of money columns
AVERAGE = '"₹"#,##0.00##;-"₹"#,##0.00##'  # averages keep up to 4 decimals
PAISA = Decimal("0.01")


def _text(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_START) else value


def _values(t: RoundTrip) -> tuple[Decimal, Decimal]:
    """(buy value, sell value): cost of acquisition and sale consideration, gross."""
    opened = (t.open_average * t.quantity).quantize(PAISA)
    closed = (t.close_average * t.quantity).quantize(PAISA)
    return (opened, closed) if t.direction == RoundTrip.Direction.LONG else (closed, opened)


def rows(trips: Iterable[RoundTrip]):
    for t in trips:
        bought, sold = _values(t)
        yield [
            fy_label(t.financial_year),
            _text(t.account_name),
            t.exchange,
            _text(t.symbol),
            t.product_class,
            t.get_direction_display(),
            t.quantity,
            t.open_date,
            t.close_date,
            t.open_average,
            t.close_average,
            bought,
            sold,
            t.gross,
            t.charges_estimate,
            t.net,
            t.get_classification_display(),
            "yes" if t.from_opening_lot else "",
            "yes" if t.grandfathered else "",
            _text(t.strategy),
            _text(t.note),
        ]


UNMATCHED = "Unmatched sale (not a round trip)"


def unmatched_rows(sales: Iterable[UnmatchedSale]):
    """Delivery shares sold beyond the known history: a warning row each, with no
    profit or loss (the purchase is not known), so a sum of the P&L columns skips it."""
    for u in sales:
        yield [
            fy_label(u.financial_year),
            _text(u.account_name),
            u.exchange,
            _text(u.symbol),
            "CNC",
            "",
            u.quantity,
            None,
            u.sale_date,
            None,
            u.price,
            None,
            (u.price * u.quantity).quantize(PAISA),
            None,
            None,
            None,
            UNMATCHED,
            "",
            "",
            "",
            _text("WARNING: " + u.message),
        ]


def as_csv(trips: Iterable[RoundTrip], unmatched: Iterable[UnmatchedSale] = ()) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    for row in chain(rows(trips), unmatched_rows(unmatched)):
        writer.writerow([f"{v:%Y-%m-%d}" if hasattr(v, "strftime") else v for v in row])
    return out.getvalue().encode("utf-8-sig")  # the BOM makes Excel read it as UTF-8


def as_xlsx(trips: Sequence[RoundTrip], unmatched: Iterable[UnmatchedSale] = ()) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)
    sheet = book.create_sheet("Round trips")
    sheet.append(HEADER)
    averages = {HEADER.index("Open average"), HEADER.index("Close average")}

    def cell(target, value, index):
        if not hasattr(value, "as_tuple"):
            return value
        money = WriteOnlyCell(target, value=float(value))
        money.number_format = AVERAGE if index in averages else RUPEES
        return money

    for row in chain(rows(trips), unmatched_rows(unmatched)):
        sheet.append([cell(sheet, v, i) for i, v in enumerate(row)])
    summary = book.create_sheet("By classification")
    summary.append(
        ["Classification", "Round trips", "Gross P&L", CHARGES_LABEL, "Net P&L (estimated)"]
    )
    labels = dict(RoundTrip.Classification.choices)
    for s in by(trips, "classification"):
        summary.append(
            [
                labels.get(s.label, s.label),
                s.trades,
                *(cell(summary, Decimal(v), -1) for v in (s.gross, s.charges, s.net)),
            ]
        )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
