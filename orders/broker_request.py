"""Order → the broker's `OrderRequest`: the one place that builds it.

Placement (`execution`), GTT arming (`conditional`) and the pre-trade preview
(`queue.preview`) all call `broker_request`, so what is previewed is what is
sent: the same variety (AMO included), validity, product and prices. A price
is sent only for the order types that use one (LIMIT, SL), a trigger only for
SL and SL-M.

A preview of a MARKET (or SL-M) order has no price of its own; the caller may
pass `estimate` (the last traded price) so margin and charges are computed on
a realistic value instead of 0. Placement never passes an estimate.
"""

from __future__ import annotations

from decimal import Decimal

from brokers.base import InstrumentRef, OrderRequest
from brokers.base import OrderType as BrokerOrderType
from brokers.base import Product as BrokerProduct
from brokers.base import Side as BrokerSide
from brokers.base import Validity as BrokerValidity
from brokers.base import Variety as BrokerVariety

from .models import Order

PRICED = (Order.OrderType.LIMIT, Order.OrderType.SL)
TRIGGERED = (Order.OrderType.SL, Order.OrderType.SL_M)


def uses_price(order_type: str) -> bool:
    return order_type in PRICED


def uses_trigger(order_type: str) -> bool:
    return order_type in TRIGGERED


def broker_request(order: Order, *, estimate: Decimal | None = None) -> OrderRequest:
    """The request that places `order` (or, with `estimate`, previews it).

    `estimate` stands in for the price only where the order has none of its own
    (MARKET, SL-M); it is never used for placement.
    """
    instrument = order.instrument
    # Built only for an order validate() accepted (or previewed with one): it has one.
    assert instrument is not None, f"order #{order.pk} has no instrument"
    price = order.price if uses_price(order.order_type) else None
    if price is None and estimate is not None:
        price = estimate
    return OrderRequest(
        instrument=InstrumentRef(instrument.exchange, instrument.trading_symbol, instrument.token),
        side=BrokerSide(order.side),
        quantity=order.quantity,
        order_type=BrokerOrderType(order.order_type),
        product=BrokerProduct(order.product),
        tag=order.client_tag,
        price=price,
        trigger_price=order.trigger_price if uses_trigger(order.order_type) else None,
        validity=BrokerValidity(order.validity),
        variety=BrokerVariety(order.variety),
        disclosed_quantity=order.disclosed_quantity or 0,
    )
