"""Helpers for the paper tests: set a price on the emulator, build an order request,
read one order back from the book, move a book to the next trading day."""

from datetime import timedelta
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


def next_day(account_or_book, days: int = 1) -> None:
    """As if the book's trading so far happened `days` earlier: the next (India)
    day begins for it, and its delivery trades settle when it is next read."""
    from django.db.models import F

    from paper.models import PaperBook, PaperHolding, PaperOrder, PaperPosition, PaperTrade

    book = (
        account_or_book
        if isinstance(account_or_book, PaperBook)
        else PaperBook.objects.get(account=account_or_book)
    )
    back = timedelta(days=days)
    for position in PaperPosition.objects.filter(book=book).order_by("day"):  # oldest first
        PaperPosition.objects.filter(pk=position.pk).update(day=position.day - back)
    PaperHolding.objects.filter(book=book, t1_date__isnull=False).update(
        t1_date=F("t1_date") - back
    )
    PaperOrder.objects.filter(book=book).update(
        placed_at=F("placed_at") - back, updated_at=F("updated_at") - back
    )
    PaperTrade.objects.filter(order__book=book).update(traded_at=F("traded_at") - back)
    PaperBook.objects.filter(pk=book.pk, settled_on__isnull=False).update(
        settled_on=F("settled_on") - back
    )
