"""Every change to an order leaves an `OrderEvent`."""

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
