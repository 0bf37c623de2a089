"""Reading a broker's own trade export (a CSV the trader downloads from the broker),
shared by the adapters' `read_trade_export`.

Each broker declares its columns as {field: (accepted header spellings, ...)};
headers are compared lower-cased with spaces, dots, dashes and slashes turned
into underscores ("Trade Date" == "trade_date", "Buy/Sell" == "buy_sell"). The
header may follow a few lines of preamble (report title, client id): the first
line within HEADER_SEARCH_LINES that has every required column is the header.
Every data row gives an `ExportedTrade`: a trade, or the reason it could not be
read (never a guess).

Fields: trade_id, order_id, exchange, symbol, side, quantity, price, product,
date, time, datetime, segment, expiry. Required: symbol, side, quantity, price,
trade_id, and either date or datetime. An export that names the market by
exchange AND segment (Zerodha Console: NSE + FO) passes `exchange_of`, which
turns (exchange, segment, expiry) into the exchange the trade book would name
(NFO); a derivative row with no product column is NRML, not the default.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Mapping
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from .base import ExportedTrade, ExportFormatError, InstrumentRef, Product, Side, Trade

IST = ZoneInfo("Asia/Kolkata")
HEADER_SEARCH_LINES = 30
DATE_FORMATS = ("%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y", "%d-%b-%Y", "%d %b %Y", "%d-%b-%y", "%Y/%m/%d")
TIME_FORMATS = ("%H:%M:%S", "%H:%M", "%I:%M:%S %p", "%I:%M %p")
SIDES = {"buy": Side.BUY, "b": Side.BUY, "sell": Side.SELL, "s": Side.SELL}
PRODUCTS = {
    "cnc": Product.CNC,
    "delivery": Product.CNC,
    "mis": Product.MIS,
    "intraday": Product.MIS,
    "nrml": Product.NRML,
    "carryforward": Product.NRML,
    "margin": Product.NRML,
}
# Exchanges whose instruments are derivatives (futures, options): F&O / currency /
# commodity segments, as the brokers' trade books name them.
DERIVATIVE_EXCHANGES = frozenset({"NFO", "BFO", "CDS", "BCD", "MCX", "NCO", "NCDEX"})


def normalise(header: str) -> str:
    return re.sub(r"[\s./\-]+", "_", header.strip().lower().lstrip("\ufeff")).strip("_")


def refuse_other_format(text: str, *, markers: frozenset[str], message: str) -> None:
    """ExportFormatError(`message`) when a line near the top has two or more of
    `markers` (normalised header names unique to another broker's export): a file of
    the wrong broker must be refused, not read by the columns the two share."""
    for header in list(csv.reader(io.StringIO(text)))[:HEADER_SEARCH_LINES]:
        if len({normalise(h) for h in header} & markers) >= 2:
            raise ExportFormatError(message)


def parse_date(value: str) -> date:
    value = value.strip()
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    raise ValueError(f"unreadable date {value!r}")


def parse_time(value: str) -> time:
    value = value.strip()
    for fmt in TIME_FORMATS:
        try:
            return datetime.strptime(value, fmt).time()
        except ValueError:
            continue
    raise ValueError(f"unreadable time {value!r}")


def parse_datetime(value: str) -> datetime:
    """ISO ("2024-03-15T09:20:31", with or without a zone) or "<date> <time>"; India
    time when the text has no zone."""
    value = value.strip()
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        day, _, clock = value.partition(" ")
        moment = datetime.combine(parse_date(day), parse_time(clock) if clock else time(9, 15))
    return moment if moment.tzinfo else moment.replace(tzinfo=IST)


def _decimal(value: str, name: str) -> Decimal:
    try:
        number = Decimal(value.strip().replace(",", ""))
    except InvalidOperation:
        raise ValueError(f"{name} {value!r} is not a number") from None
    if not number.is_finite() or number <= 0:
        raise ValueError(f"{name} {value!r} must be above 0")
    return number


def _quantity(value: str) -> int:
    number = _decimal(value, "quantity")
    if number != number.to_integral_value():
        raise ValueError(f"quantity {value!r} is not a whole number")
    return int(number)


def read(
    text: str,
    *,
    columns: Mapping[str, tuple[str, ...]],
    default_exchange: str = "NSE",
    default_product: Product = Product.CNC,
    symbol_of: Callable[[str, str], str] = lambda exchange, symbol: symbol,
    exchange_of: Callable[[str, str, str], str] | None = None,
) -> list[ExportedTrade]:
    """Every data row of `text` as an ExportedTrade. ExportFormatError when no header
    with the required columns is found (naming what is missing)."""
    lines = list(csv.reader(io.StringIO(text)))
    wanted = {field: {normalise(s) for s in spellings} for field, spellings in columns.items()}
    required = {"symbol", "side", "quantity", "price", "trade_id"}
    best_missing: set[str] | None = None
    for start, header in enumerate(lines[:HEADER_SEARCH_LINES]):
        names = [normalise(h) for h in header]
        where = {}
        for field, spellings in wanted.items():
            for index, name in enumerate(names):
                if name in spellings:
                    where[field] = index
                    break
        missing = required - set(where)
        if "date" not in where and "datetime" not in where:
            missing.add("date")
        if not missing:
            return [
                _row(
                    start + 1 + n + 1,
                    row,
                    where,
                    default_exchange,
                    default_product,
                    symbol_of,
                    exchange_of,
                )
                for n, row in enumerate(lines[start + 1 :])
                if any(cell.strip() for cell in row)
            ]
        if best_missing is None or len(missing) < len(best_missing):
            best_missing = missing
    expected = ", ".join(
        f"{field} ({' / '.join(columns[field][:2])})"
        for field in sorted(best_missing or required)
        if field in columns
    )
    raise ExportFormatError(
        f"No header row with the columns this export needs. Missing: {expected}."
    )


def _row(
    line, row, where, default_exchange, default_product, symbol_of, exchange_of
) -> ExportedTrade:
    def cell(field: str) -> str:
        index = where.get(field)
        return row[index].strip() if index is not None and index < len(row) else ""

    try:
        side = SIDES.get(cell("side").lower())
        if side is None:
            raise ValueError(f"side {cell('side')!r} is neither buy nor sell")
        symbol = cell("symbol").upper()
        if not symbol:
            raise ValueError("no symbol")
        trade_id = cell("trade_id")
        if not trade_id:
            raise ValueError("no trade id (needed to tell a fill from a duplicate)")
        quantity = _quantity(cell("quantity"))
        price = _decimal(cell("price"), "price")
        known_time = True
        if cell("datetime"):
            traded_at = parse_datetime(cell("datetime"))
        else:
            day = parse_date(cell("date"))
            clock = cell("time")
            known_time = bool(clock)
            moment = datetime.combine(day, parse_time(clock) if clock else time(9, 15))
            traded_at = moment.replace(tzinfo=IST)
        exchange = (cell("exchange") or default_exchange).upper()
        if exchange_of is not None:
            exchange = exchange_of(exchange, cell("segment").upper(), cell("expiry"))
        product_text = cell("product").lower().replace(" ", "")
        default = Product.NRML if exchange in DERIVATIVE_EXCHANGES else default_product
        product = PRODUCTS.get(product_text, default) if product_text else default
        trade_date = traded_at.astimezone(IST).date()
    except ValueError as exc:
        return ExportedTrade(line=line, error=str(exc))
    except OverflowError:  # a time zone moves year 1 or 9999 out of range
        return ExportedTrade(line=line, error=f"date {cell('datetime')!r} is out of range")
    trade = Trade(
        trade_id=trade_id,
        broker_order_id=cell("order_id"),
        instrument=InstrumentRef(exchange, symbol_of(exchange, symbol)),
        side=side,
        quantity=quantity,
        price=price,
        product=product,
        traded_at=traded_at,
    )
    return ExportedTrade(line=line, trade=trade, trade_date=trade_date, time_known=known_time)
