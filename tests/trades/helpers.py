"""Fills written straight to the database, for the matching's services and pages."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from trades.matching import IST
from trades.models import Trade


def make_trade(
    account,
    n,
    side,
    qty,
    price,
    when,
    *,
    symbol="INFY",
    exchange="NSE",
    product="CNC",
    order=None,
    origin=Trade.Origin.CAPTURED,
):
    at = datetime.fromisoformat(when).replace(tzinfo=IST)
    return Trade.objects.create(
        user=account.user,
        account=account,
        account_name=account.display_name,
        order=order,
        broker_trade_id=f"T{n}",
        broker_order_id=f"O{n}",
        exchange=exchange,
        symbol=symbol,
        side=side,
        quantity=qty,
        price=Decimal(str(price)),
        product=product,
        traded_at=at,
        trade_date=at.date(),
        origin=origin,
    )
