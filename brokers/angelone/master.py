"""The SmartAPI instrument master (OpenAPIScripMaster.json), row by row."""

from __future__ import annotations

from decimal import Decimal

from ..base import (
    InstrumentRow,
)
from ..mapping import (
    EXCHANGES,
    RowReader,
    decimal_text,
    parse_date_text,
    split_series,
)

PRICE_DIVISOR = {"CDS": Decimal(10_000_000), "BCD": Decimal(10_000_000)}
HUNDRED = Decimal(100)
MASTER_TYPES = {"": "EQ", "AMXIDX": "INDEX", "INDEX": "INDEX"}


def _clean_fields(item: dict) -> tuple | None:
    """The fields of a well-formed row (all strings, all parseable), or None.

    The fast path of a master refresh: a few lakh rows, nine fields each. Any
    doubt (a missing field, a number, a bad value) returns None and the row
    goes through RowReader, which says what is wrong with it."""
    get = item.get
    exchange, symbol, raw_type = get("exch_seg"), get("symbol"), get("instrumenttype")
    token, name, lots = get("token"), get("name"), get("lotsize")
    strike, tick, expiry = get("strike"), get("tick_size"), get("expiry")
    if not (
        type(exchange) is type(symbol) is type(raw_type) is type(token) is type(name) is str
        and type(lots) is type(strike) is type(tick) is type(expiry) is str
    ):
        return None
    exchange, symbol, token = exchange.strip().upper(), symbol.strip(), token.strip()
    strike, tick, lots = decimal_text(strike.strip()), decimal_text(tick.strip()), lots.strip()
    lot = decimal_text(lots) if lots else None
    expiry = expiry.strip()
    day = parse_date_text(expiry) if expiry else None
    if (
        exchange not in EXCHANGES
        or not symbol
        or not token.isdigit()
        or strike is None
        or tick is None
        or lot is None
        or lot < 1
        or lot != lot.to_integral_value()
        or (expiry and day is None)
    ):
        return None
    return (
        exchange,
        symbol,
        raw_type.strip().upper(),
        strike,
        tick,
        token,
        name.strip(),
        int(lot),
        day,
    )


def smartapi_record(number: int, item: dict, source: str) -> InstrumentRow:
    fields = _clean_fields(item)
    if fields is None:  # the careful path: names the first bad field
        r = RowReader(number, item, source)
        fields = (
            r.exchange("exch_seg"),
            r.text("symbol"),
            r.text("instrumenttype", required=False).upper(),
            r.decimal("strike"),
            r.decimal("tick_size"),
            r.token("token"),
            r.text("name", required=False),
            r.integer("lotsize"),
            r.date("expiry"),
        )
    exchange, symbol, raw_type, strike, tick, token, name, lot, expiry = fields
    if raw_type.startswith("OPT"):
        kind = symbol[-2:].upper()
        if kind not in ("CE", "PE"):
            RowReader(number, item, source).fail(
                f"option symbol {symbol!r} does not end in CE or PE"
            )
    elif raw_type.startswith("FUT"):
        kind = "FUT"
    else:
        kind = MASTER_TYPES.get(raw_type, raw_type)
    divisor = PRICE_DIVISOR.get(exchange, HUNDRED)
    tick = tick / divisor
    canonical, series = symbol, ""
    if kind == "EQ":
        canonical, series = split_series(symbol)
        series = series or ("EQ" if exchange == "NSE" else "")
    elif kind == "INDEX":
        canonical = symbol.upper()
    return InstrumentRow(
        exchange=exchange,
        trading_symbol=symbol,
        canonical_symbol=canonical,
        token=token,
        name=name,
        instrument_type=kind,
        segment=raw_type,
        series=series,
        lot_size=lot,
        tick_size=tick if tick > 0 else Decimal("0.05"),
        expiry=expiry,
        strike=strike / divisor if kind in ("CE", "PE") and strike > 0 else None,
    )
