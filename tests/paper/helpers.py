"""Helpers for the paper tests: set a price on the emulator, build an order request,
read one order back from the book."""

from decimal import Decimal

from brokers.base import InstrumentRef, OrderRequest, OrderType, Product, Side

D = Decimal


def price(market, symbol, value):
    market.set_price("NSE", symbol, str(value))


def request(symbol, side="BUY", quantity=1, kind="MARKET", product="CNC", **fields):
    return OrderRequest(
        instrument=InstrumentRef("NSE", symbol),
        side=Side(side),
        quantity=quantity,
        order_type=OrderType(kind),
        product=Product(product),
        tag=fields.pop("tag", f"T{symbol}{side}"),
        **fields,
    )


def book_order(adapter, order_id):
    return {o.broker_order_id: o for o in adapter.order_book()}[order_id]
