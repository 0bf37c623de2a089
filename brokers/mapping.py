"""Parsing helpers the adapters share: brokers send numbers as numbers, strings,
blanks or nulls, and a bad value must never crash a whole book."""

from __future__ import annotations

import csv
import logging
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from .base import InstrumentRow

logger = logging.getLogger(__name__)

_MISSING = object()


def dec(value, default=_MISSING) -> Decimal | None:
    """Decimal from a number or numeric string; blanks give `default` (0 unless given)."""
    fallback = Decimal(0) if default is _MISSING else default
    if value is None or value == "":
        return fallback
    try:
        number = Decimal(str(value).strip().replace(",", ""))
    except (InvalidOperation, ValueError):
        logger.warning("unparseable number %r", value)
        return fallback
    return number if number.is_finite() else fallback


def to_int(value, default: int = 0) -> int:
    number = dec(value, default=None)
    return int(number) if number is not None else default


def parse_date(value, formats=("%Y-%m-%d", "%d%b%Y", "%d-%b-%Y")) -> date | None:
    text = str(value or "").strip()
    if not text:
        return None
    for fmt in formats:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def parse_instrument_csv(lines: Iterable[str]) -> Iterator[InstrumentRow]:
    """Kite's /instruments CSV, row by row (never the whole file in memory)."""
    for row in csv.DictReader(line for line in lines if line):
        segment = row.get("segment", "")
        kind = row.get("instrument_type", "")
        if segment == "INDICES":
            kind = "INDEX"
        strike = dec(row.get("strike"), default=None)
        yield InstrumentRow(
            exchange=row.get("exchange", ""),
            trading_symbol=row.get("tradingsymbol", ""),
            token=row.get("instrument_token", ""),
            name=row.get("name", ""),
            instrument_type=kind,
            segment=segment,
            lot_size=to_int(row.get("lot_size"), 1) or 1,
            tick_size=dec(row.get("tick_size")) or Decimal("0.05"),
            expiry=parse_date(row.get("expiry")),
            strike=strike if strike else None,
        )
