"""Zerodha Console's tradebook export (Console > Reports > Tradebook > download CSV).

Columns read (the CSV's own header names, lower-case with underscores):

    symbol, isin, trade_date, exchange, segment, series, trade_type, auction,
    quantity, price, trade_id, order_id, order_execution_time
    (F&O rows add expiry_date; their `symbol` is the contract's trading symbol)

Where they were checked: several independent public parsers of this export list
exactly this header (e.g. a "Zerodha Tradebook CSV parser" whose docstring gives
"symbol, isin, trade_date, exchange, segment, series, trade_type, auction,
quantity, price, trade_id, order_id, order_execution_time"; the same list in a
Ruby `ZerodhaTradebook` parser and a TypeScript one), and the Console tradebook
overview at v2.webnotes.in/console-tradebook (trade date and time in IST,
exchange, segment, series, trade type, symbol, ISIN, quantity, price, order id,
trade id). The Excel download carries the same columns under title-case names
below a preamble of about a dozen lines; both spellings are accepted.

Mapping: trade_type buy/sell -> side; order_execution_time (ISO, India time)
-> traded_at, else trade_date at 09:15 (time unknown). `exchange` is the
exchange (NSE, BSE, MCX) and `segment` the market in it (EQ, FO, CDS, COM), so
the trade book's exchange is read from both: NSE+FO -> NFO, BSE+FO -> BFO,
NSE+CDS -> CDS, BSE+CDS -> BCD, COM or MCX -> MCX; a row without a segment but
with an expiry_date is a derivative of its exchange. The export has no product
column, so an equity row is CNC (a fill squared the same day still classes as
intraday from its dates) and a derivative row NRML. `symbol` is Kite's tradingsymbol, as the
trade book (`kite.trades()`) spells it, so imports meet captured fills.
"""

from __future__ import annotations

from ..base import ExportedTrade
from ..exports import read, refuse_other_format

# Columns only AngelOne's trade report has (brokers/angelone/tradebook.py).
ANGEL_COLUMNS = frozenset(
    {"buy_sell", "product_type", "producttype", "transactiontype", "fillid", "fillsize"}
    | {"fillprice", "filltime", "trade_time", "order_no", "trade_no", "b_s"}
)

COLUMNS = {
    "symbol": ("symbol", "tradingsymbol"),
    "trade_id": ("trade_id", "Trade ID"),
    "order_id": ("order_id", "Order ID"),
    "exchange": ("exchange",),
    "side": ("trade_type", "Trade Type"),
    "quantity": ("quantity",),
    "price": ("price",),
    "date": ("trade_date", "Trade Date"),
    "datetime": ("order_execution_time", "Order Execution Time"),
    "product": ("product",),
    "segment": ("segment", "Segment"),
    "expiry": ("expiry_date", "Expiry Date"),
}

FO_SEGMENTS = frozenset({"FO", "F&O", "NFO", "BFO", "FUT", "OPT", "DERIVATIVES"})
CURRENCY_SEGMENTS = frozenset({"CDS", "CD", "CURRENCY", "BCD"})
COMMODITY_SEGMENTS = frozenset({"COM", "MCX", "COMMODITY", "NCO"})
DERIVATIVE_OF = {"NSE": "NFO", "BSE": "BFO"}
CURRENCY_OF = {"NSE": "CDS", "BSE": "BCD"}


def exchange_of(exchange: str, segment: str, expiry: str) -> str:
    """The trade book's exchange for a Console row's exchange and segment."""
    if exchange in {"MCX", "NCDEX"} or segment in COMMODITY_SEGMENTS:
        return exchange if exchange in {"MCX", "NCDEX"} else "MCX"
    if segment in CURRENCY_SEGMENTS:
        return CURRENCY_OF.get(exchange, exchange)
    if segment in FO_SEGMENTS or (not segment and expiry.strip()):
        return DERIVATIVE_OF.get(exchange, exchange)
    return exchange


def read_tradebook(text: str) -> list[ExportedTrade]:
    refuse_other_format(
        text,
        markers=ANGEL_COLUMNS,
        message="This looks like AngelOne's trade report, not a Zerodha Console tradebook.",
    )
    return read(text, columns=COLUMNS, exchange_of=exchange_of)
