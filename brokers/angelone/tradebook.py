"""AngelOne's trade book / trade history report (web portal: Reports > Trade Book,
downloaded as CSV).

Where the columns were checked: AngelOne publishes no specification of this
download. A public integration guide (journalplus.co/integrations/angelone)
describes the export as a CSV "with symbol, exchange, product type, quantity,
price, and order ID"; the SmartAPI trade book the adapter already reads
(`tradeBook()`: tradingsymbol, exchange, producttype, transactiontype,
fillsize, fillprice, fillid, orderid, filltime) names the same things. The
reader therefore accepts both spellings:

    symbol        Symbol / Scrip / Scrip Name / tradingsymbol
    exchange      Exchange / Exch
    product       Product / Product Type / producttype
    side          Buy/Sell / Transaction Type / Trade Type / transactiontype
    quantity      Quantity / Qty / Trade Qty / fillsize
    price         Price / Trade Price / Rate / fillprice
    trade id      Trade ID / Trade No / fillid
    order id      Order ID / Order No / orderid
    date          Trade Date / Date
    time          Trade Time / Time / filltime

and says which required column is missing otherwise. NSE equity symbols are
given the "-EQ" suffix SmartAPI's trading symbols carry ("SBIN" -> "SBIN-EQ"),
so imported fills meet the captured ones.
"""

from __future__ import annotations

from ..base import ExportedTrade
from ..exports import read, refuse_other_format

# Columns only Zerodha Console's tradebook has (brokers/zerodha/tradebook.py).
CONSOLE_COLUMNS = frozenset({"isin", "segment", "series", "auction", "order_execution_time"})

COLUMNS = {
    "symbol": ("Symbol", "Scrip", "Scrip Name", "tradingsymbol", "Trading Symbol"),
    "exchange": ("Exchange", "Exch"),
    "product": ("Product", "Product Type", "producttype"),
    "side": ("Buy/Sell", "Transaction Type", "Trade Type", "transactiontype", "B/S"),
    "quantity": ("Quantity", "Qty", "Trade Qty", "fillsize"),
    "price": ("Price", "Trade Price", "Rate", "fillprice"),
    "trade_id": ("Trade ID", "Trade No", "Trade Number", "fillid"),
    "order_id": ("Order ID", "Order No", "Order Number", "orderid"),
    "date": ("Trade Date", "Date"),
    "time": ("Trade Time", "Time", "filltime"),
}


def smart_symbol(exchange: str, symbol: str) -> str:
    if exchange == "NSE" and "-" not in symbol:
        return f"{symbol}-EQ"
    return symbol


def read_trade_report(text: str) -> list[ExportedTrade]:
    refuse_other_format(
        text,
        markers=CONSOLE_COLUMNS,
        message="This looks like a Zerodha Console tradebook, not AngelOne's trade report.",
    )
    return read(text, columns=COLUMNS, symbol_of=smart_symbol)
