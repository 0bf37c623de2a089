"""The Kite Connect instrument master (the /instruments CSV), row by row."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from decimal import Decimal

from ..base import InstrumentRow, MasterFormatError
from ..mapping import RowReader, split_series

KITE_COLUMNS = (
    "instrument_token",
    "exchange_token",
    "tradingsymbol",
    "name",
    "last_price",
    "expiry",
    "strike",
    "tick_size",
    "lot_size",
    "instrument_type",
    "segment",
    "exchange",
)
KITE_TYPES = frozenset({"EQ", "FUT", "CE", "PE"})


def parse_kite_csv(
    lines: Iterable[str], *, source: str = "Kite instruments"
) -> Iterator[InstrumentRow]:
    """Kite's /instruments CSV, row by row (never the whole file in memory)."""
    reader = csv.DictReader(line for line in lines if line)
    missing = [c for c in KITE_COLUMNS if c not in (reader.fieldnames or ())]
    if missing:
        raise MasterFormatError(f"{source} header: missing columns {', '.join(missing)}")
    for number, row in enumerate(reader, start=2):  # the header is line 1
        if None in row or any(value is None for value in row.values()):
            RowReader(number, row, source).fail("wrong number of columns")
        yield kite_row(RowReader(number, row, source))


def kite_row(r: RowReader) -> InstrumentRow:
    segment = r.text("segment")
    kind = r.text("instrument_type").upper()
    if kind not in KITE_TYPES:
        r.fail(f"instrument_type {kind!r} is not one of {sorted(KITE_TYPES)}")
    symbol = r.text("tradingsymbol")
    series = ""
    canonical = symbol
    if segment == "INDICES":
        kind = "INDEX"
    elif kind == "EQ":
        canonical, series = split_series(symbol)
        series = series or "EQ"
    strike = r.decimal("strike")
    tick = r.decimal("tick_size")
    if tick < 0:
        r.fail(f"tick_size {tick} is negative")
    return InstrumentRow(
        exchange=r.exchange("exchange"),
        trading_symbol=symbol,
        canonical_symbol=canonical,
        token=r.token("instrument_token"),
        name=r.text("name", required=False),
        instrument_type=kind,
        segment=segment,
        series=series,
        lot_size=r.integer("lot_size"),
        tick_size=tick or Decimal("0.05"),
        expiry=r.date("expiry"),
        strike=strike if kind in ("CE", "PE") else None,
    )
