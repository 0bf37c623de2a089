"""Entry or exit, for a trading halt (the rule is in orders/halts.py).

Registered with `orders.halts.register_exit_check` in ProtectionConfig.ready():
orders cannot read the portfolio, this app can. It reads the synced rows (the
loss-limit watch refreshes them every 15–30 s while a limit is active, and a
fill refreshes its account within seconds), never the broker inside the claim.
"""

from __future__ import annotations

from django.db.models import Sum

from orders.models import Order
from portfolio.models import Holding, Position


def only_reduces(order: Order) -> bool:
    """True when `order` can only reduce what its account holds (an exit)."""
    if order.account_id is None or order.instrument is None or order.quantity < 1:
        return False
    instrument = order.instrument
    rows = {
        "account_id": order.account_id,
        "exchange": instrument.exchange,
        "symbol": instrument.canonical_symbol,
    }
    net = (
        Position.objects.filter(product=order.product, **rows).aggregate(q=Sum("quantity"))["q"]
        or 0
    )
    if order.product == Order.Product.CNC:
        # Delivery: holdings and today's delivery position together (a holding sold
        # today is still a holding, beside a negative delivery position).
        held = Holding.objects.filter(**rows).aggregate(q=Sum("quantity"), t1=Sum("t1_quantity"))
        net += (held["q"] or 0) + (held["t1"] or 0)
    if order.side == Order.Side.BUY:
        return net < 0 and order.quantity <= -net
    return net > 0 and order.quantity <= net
