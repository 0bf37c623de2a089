"""Queue rows formatted in Python: the queue may hold a thousand orders, and flat
values render several times faster than filters and attribute chains in a template."""

from sigmatrader.templatetags.money import inr, inr_number

from .models import Order

ERROR_STATES = (Order.Status.FAILED, Order.Status.REJECTED)


def queue_row(order: Order, error: str = "") -> dict:
    instrument = order.instrument
    return {
        "pk": str(order.pk),
        "editable": order.is_editable,
        "account": order.account_name,
        "symbol": instrument.trading_symbol if instrument else order.symbol,
        "exchange": order.exchange,
        "side": order.side,
        "side_class": f"side-{order.side.lower()}",
        "quantity": inr_number(order.quantity),
        "type": order.order_type
        + (" · AMO" if order.variety == Order.Variety.AMO else "")
        + (" · GTT" if order.is_gtt else ""),
        "product": order.product,
        "price": inr(order.price) or "—",
        "trigger": inr(order.trigger_price) or "—",
        "status": order.status.lower(),
        "status_label": order.get_status_display(),
        "message": order.status_message,
        "message_class": "field-error" if order.status in ERROR_STATES else "muted",
        "risk_note": order.risk_note,
        "error": error,
    }


def risk_form_for(user):
    from .forms import RiskPolicyForm
    from .models import RiskPolicy

    return RiskPolicyForm(
        instance=RiskPolicy.objects.filter(user=user, strategy__isnull=True).first()
    )
