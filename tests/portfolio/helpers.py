"""Helpers for the portfolio tests (and the pages and benches that show a portfolio)."""

from decimal import Decimal

from emulator.state import Lot

D = Decimal


def seed(peer, *, holdings=(), positions=()):
    """Put lots in the emulated broker's book: (symbol, qty, avg[, t1]) / (symbol, product, qty, avg)."""
    book = peer.user.book
    for symbol, quantity, average, *t1 in holdings:
        book.holdings[("NSE", symbol)] = Lot(
            "NSE", symbol, quantity, D(average), t1_quantity=t1[0] if t1 else 0
        )
    for symbol, product, quantity, average in positions:
        lot = Lot("NSE", symbol, quantity, D(average), product=product)
        if quantity > 0:
            lot.buy_quantity, lot.buy_value = quantity, D(average) * quantity
        else:
            lot.sell_quantity, lot.sell_value = -quantity, D(average) * -quantity
        book.positions[("NSE", symbol, product)] = lot
