"""Parsing helpers the adapters share: brokers send numbers as numbers, strings,
blanks or nulls, and a bad value must never crash a whole book."""

from __future__ import annotations

import functools
import logging
import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import NoReturn, TypeVar, overload

from .base import MasterFormatError

logger = logging.getLogger(__name__)

_MISSING: object = object()
_Default = TypeVar("_Default")


@overload
def dec(value: object) -> Decimal: ...
@overload
def dec(value: object, default: _Default) -> Decimal | _Default: ...
def dec(value, default=_MISSING):
    """Decimal from a number or numeric string; blanks give `default` (0 unless given)."""
    fallback = Decimal(0) if default is _MISSING else default
    if value is None or value == "":
        return fallback
    try:
        # "1,234.5"; SmartAPI's spaced negatives: "- 2235.80".
        number = Decimal(str(value).replace(",", "").replace(" ", ""))
    except (InvalidOperation, ValueError):
        logger.warning("unparseable number %r", value)
        return fallback
    return number if number.is_finite() else fallback


def to_int(value, default: int = 0) -> int:
    number = dec(value, default=None)
    return int(number) if number is not None else default


DATE_FORMATS = ("%Y-%m-%d", "%d%b%Y", "%d-%b-%Y")


def parse_date(value) -> date | None:
    text = str(value or "").strip()
    return parse_date_text(text) if text else None


@functools.lru_cache(maxsize=4096)
def parse_date_text(text: str) -> date | None:
    """Cached: a master repeats a few hundred expiry dates across 2 lakh rows."""
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


# --- Instrument masters ---------------------------------------------------------------

EXCHANGES = frozenset({"NSE", "BSE", "NFO", "BFO", "CDS", "BCD", "MCX", "NCO", "NCDEX"})
# A two-letter suffix after the last hyphen of an equity symbol is its series
# (CENTRALBK-BE); longer ones are part of the name (BAJAJ-AUTO, NAM-INDIA).
_SERIES = re.compile(r"^(?P<base>.+)-(?P<series>[A-Z][A-Z0-9])$")


def split_series(symbol: str) -> tuple[str, str]:
    found = _SERIES.match(symbol)
    return (found["base"], found["series"]) if found else (symbol, "")


@functools.lru_cache(maxsize=65536)
def decimal_text(raw: str) -> Decimal | None:
    """Cached: strikes, tick and lot sizes repeat across expiries and exchanges."""
    try:
        value = Decimal(raw)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


class RowReader:
    """Typed access to one master row; every failure names the row and the field."""

    def __init__(self, number: int, row: dict, source: str):
        self.number, self.row, self.source = number, row, source

    def fail(self, message: str) -> NoReturn:
        token = self.row.get("token") or self.row.get("instrument_token") or "?"
        raise MasterFormatError(f"{self.source} row {self.number} (token {token}): {message}")

    def text(self, field: str, *, required: bool = True) -> str:
        if field not in self.row or self.row[field] is None:
            self.fail(f"missing field {field!r}")
        value = str(self.row[field]).strip()
        if required and not value:
            self.fail(f"empty field {field!r}")
        return value

    def decimal(self, field: str) -> Decimal:
        raw = self.text(field)
        value = decimal_text(raw)
        if value is None:
            self.fail(f"{field} {raw!r} is not a number")
        return value

    def integer(self, field: str, *, minimum: int = 1) -> int:
        value = self.decimal(field)
        if value != value.to_integral_value() or value < minimum:
            self.fail(f"{field} {self.row[field]!r} is not a whole number >= {minimum}")
        return int(value)

    def token(self, field: str) -> str:
        value = self.text(field)
        if not value.isdigit():
            self.fail(f"{field} {value!r} is not a numeric token")
        return value

    def exchange(self, field: str) -> str:
        value = self.text(field).upper()
        if value not in EXCHANGES:
            self.fail(f"{field} {value!r} is not a known exchange")
        return value

    def date(self, field: str) -> date | None:
        raw = self.text(field, required=False)
        if not raw:
            return None
        parsed = parse_date(raw)
        if parsed is None:
            self.fail(f"{field} {raw!r} is not a date")
        return parsed


ONE = Decimal(1)


def split_pnl(
    *,
    pnl: Decimal,
    quantity: int,
    average: Decimal,
    last: Decimal,
    multiplier: Decimal = Decimal(1),
) -> tuple[Decimal, Decimal]:
    """(realised, unrealised) of a position whose whole P&L is `pnl`.

    Unrealised is what the open quantity would make at the last price:
    quantity × (last − average) × multiplier (nothing when flat); realised is
    the rest, booked by the part already closed. After exiting 5 of 15 bought at
    1,501.92 for 1,485.75, with 10 left and the last price 1,460.80:
    unrealised 10 × (1,460.80 − 1,501.92) = −411.20, realised −80.85.
    """
    if not quantity or not average:
        return (pnl, Decimal(0)) if not quantity else (Decimal(0), pnl)
    unrealised = (quantity * (last - average) * multiplier).quantize(Decimal("0.01"))
    return pnl - unrealised, unrealised
