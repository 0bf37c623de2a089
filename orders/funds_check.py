"""Does an order fit the cash its account last reported? For the preview: the funds the
last portfolio sync (or funds call) stored, never a broker call per page render."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

# Against the layering, and listed in tests/architecture/test_layers.py ALLOWED.
from portfolio.models import PortfolioSync
from sigmatrader.formatting import inr

from .broker_request import uses_price
from .models import Order

if TYPE_CHECKING:
    from brokers.models import BrokerAccount

CRORE, LAKH = Decimal("10000000"), Decimal("100000")


def short_inr(amount: Decimal) -> str:
    """₹1.43 crore, ₹9.9 lakh, ₹45,000: a size a trader reads at a glance."""
    if abs(amount) >= CRORE:
        return f"₹{(amount / CRORE).quantize(Decimal('0.01'))} crore"
    if abs(amount) >= LAKH:
        return f"₹{(amount / LAKH).quantize(Decimal('0.1'))} lakh"
    return inr(amount)


def stored_cash(account: BrokerAccount | None) -> Decimal | None:
    row = PortfolioSync.objects.filter(account=account).values_list("available_cash").first()
    return row[0] if row else None


def shortfall(order: Order, *, estimate: Decimal | None) -> str:
    """'needs about ₹1.43 crore, ₹9.9 lakh available' when a BUY's estimated value is
    above the account's stored cash; '' when it fits or either side is unknown."""
    if order.side != Order.Side.BUY:
        return ""
    price = order.price if uses_price(order.order_type) else None
    price = price or order.trigger_price or estimate
    cash = stored_cash(order.account)
    if not price or cash is None:
        return ""
    value = price * order.quantity
    if value <= cash:
        return ""
    return f"needs about {short_inr(value)}, {short_inr(cash)} available"
