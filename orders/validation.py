"""Check an order against its instrument and its account's capabilities, before
anything is sent. Messages are meant for the trader."""

from decimal import Decimal

from brokers.base import OrderType as BrokerOrderType
from brokers.base import Product as BrokerProduct
from brokers.base import Validity as BrokerValidity

from .models import ACCOUNT_GONE, Order

# Order.price holds 14 digits with 4 decimals.
MAX_PRICE = Decimal(10) ** 10


class InvalidOrder(ValueError):
    """`field` names the order field at fault (for a form), or None."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message, self.field = message, field


def _on_tick(value: Decimal, tick: Decimal) -> bool:
    return tick <= 0 or (value / tick) == (value / tick).to_integral_value()


def validate(order: Order) -> None:
    instrument = order.instrument
    if instrument is None:
        raise InvalidOrder(
            f"{order.symbol} is not resolved to an instrument of this account.", "symbol"
        )
    if order.account is None:
        raise InvalidOrder(ACCOUNT_GONE)
    if instrument.broker != order.account.broker:
        raise InvalidOrder(f"{instrument} belongs to another broker than {order.account_name}.")
    caps = order.account.adapter_class.capabilities
    if BrokerProduct(order.product) not in caps.products:
        raise InvalidOrder(
            f"{order.account.broker_label} does not offer the {order.product} product.", "product"
        )
    if BrokerOrderType(order.order_type) not in caps.order_types:
        raise InvalidOrder(
            f"{order.account.broker_label} does not offer {order.order_type} orders.", "order_type"
        )
    if BrokerValidity(order.validity) not in caps.validities:
        raise InvalidOrder(
            f"{order.account.broker_label} does not offer {order.validity} validity.", "validity"
        )
    disclosed = order.disclosed_quantity or 0
    if disclosed and not caps.disclosed_quantity:
        raise InvalidOrder(
            f"{order.account.broker_label} does not take a disclosed quantity.",
            "disclosed_quantity",
        )
    if disclosed > order.quantity:
        raise InvalidOrder(
            "The disclosed quantity cannot be more than the quantity.", "disclosed_quantity"
        )
    if instrument.instrument_type == "INDEX":
        raise InvalidOrder(
            f"{instrument.canonical_symbol} is an index: it cannot be traded.", "symbol"
        )
    if order.quantity <= 0:
        raise InvalidOrder("Quantity must be at least 1.", "quantity")
    if order.quantity % instrument.lot_size:
        raise InvalidOrder(
            f"Quantity {order.quantity} is not a multiple of the lot size {instrument.lot_size}.",
            "quantity",
        )
    for name, value in (("Price", order.price), ("Trigger price", order.trigger_price)):
        if value is None:
            continue
        if not Decimal(value).is_finite():
            raise InvalidOrder(f"{name} must be a finite number.")
        if abs(Decimal(value)) >= MAX_PRICE:
            raise InvalidOrder(f"{name} {value} is out of range.")
    needs_price = order.order_type in (Order.OrderType.LIMIT, Order.OrderType.SL)
    needs_trigger = order.order_type in (Order.OrderType.SL, Order.OrderType.SL_M)
    if needs_price and (order.price is None or order.price <= 0):
        raise InvalidOrder(f"A {order.order_type} order needs a price above 0.", "price")
    if needs_trigger and (order.trigger_price is None or order.trigger_price <= 0):
        raise InvalidOrder(
            f"A {order.order_type} order needs a trigger price above 0.", "trigger_price"
        )
    tick = instrument.tick_size
    for field, name, value in (
        ("price", "Price", order.price if needs_price else None),
        ("trigger_price", "Trigger price", order.trigger_price if needs_trigger else None),
    ):
        if value is not None and not value.is_finite():
            raise InvalidOrder(f"{name} must be a number.", field)
        if value is not None and not _on_tick(value, tick):
            raise InvalidOrder(
                f"{name} {value} is not a multiple of the tick size {tick.normalize()}.",
                field,
            )
    if order.order_type == Order.OrderType.SL and order.price and order.trigger_price:
        if order.side == Order.Side.BUY and order.trigger_price > order.price:
            raise InvalidOrder(
                "For a stop-loss BUY, the trigger price cannot be above the price.",
                "trigger_price",
            )
        if order.side == Order.Side.SELL and order.trigger_price < order.price:
            raise InvalidOrder(
                "For a stop-loss SELL, the trigger price cannot be below the price.",
                "trigger_price",
            )
