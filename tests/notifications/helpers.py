from brokers.models import BrokerAccount
from orders.history import log
from orders.models import Order


def account_of(user, *, broker="zerodha", label="main", broker_user_id="AB1234"):
    return BrokerAccount.objects.create(
        user=user,
        broker=broker,
        label=label,
        broker_user_id=broker_user_id,
        status=BrokerAccount.Status.CONNECTED,
    )


def order_of(account, *, symbol="SBIN", quantity=10, status=Order.Status.SENT, **fields):
    return Order.objects.create(
        user=account.user,
        account=account,
        account_name=account.display_name,
        symbol=symbol,
        side="BUY",
        quantity=quantity,
        status=status,
        **fields,
    )


def move(order, to, message="", **fields):
    """An order's transition, written the way the apps write it (orders.history.log)."""
    before = order.status
    order.status = to
    for name, value in fields.items():
        setattr(order, name, value)
    order.save()
    return log(order, "sync", message or f"{to}", actor="sync", before=before)
