"""Every change to an order leaves an `OrderEvent`."""

from sigmatrader.events import record_event
from sigmatrader.models import SystemEvent
from sigmatrader.redaction import scrub

from .models import Order, OrderEvent


def log(
    order: Order,
    kind: str,
    message: str,
    *,
    actor: str = "system",
    before: str = "",
    details: dict | None = None,
) -> OrderEvent:
    changed = before and before != order.status
    return OrderEvent.objects.create(
        order=order,
        kind=kind,
        actor=actor[:60],
        from_status=before if changed else "",
        to_status=order.status if changed else "",
        message=message,
        details=scrub(details or {}),
    )


def rejected_event(order: Order, *, by: str, reason: str, **details) -> None:
    """The system event for an order the broker rejected (the page's notice)."""
    record_event(
        category=SystemEvent.Category.ORDER,
        level=SystemEvent.Level.WARNING,
        message=f"Order #{order.pk} {order.side} {order.quantity} {order.symbol} "
        f"rejected by {by}: {reason}",
        user=order.user,
        details={"order_id": order.pk, **details},
    )
