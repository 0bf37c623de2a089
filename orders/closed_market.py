"""What a closed market means for one order, and the trader's choices then.

Asked before an order is sent from a page (queue Execute, square-off): when
the market is closed for it, the page offers a choice instead of a failure —
send it as an after-market order (AMO) where the account's broker takes AMO,
keep it waiting in the queue for the open, or cancel it.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from brokers.models import BrokerAccount
from marketdata import clock

from .history import log
from .models import ACCOUNT_GONE, Order


@dataclass(frozen=True)
class ClosedMarket:
    message: str
    amo: bool  # the account's broker takes after-market orders


def closed_for(order: Order) -> ClosedMarket | None:
    """None when the order may go now (open market, AMO, or a broker that keeps
    regular orders for the open); else why not and what the broker offers."""
    if order.variety == Order.Variety.AMO or order.account is None:
        return None  # no account: execution refuses it (validation), whatever the hour
    return closed_for_account(account=order.account, exchange=order.exchange)


def closed_for_account(*, account: BrokerAccount, exchange: str = "") -> ClosedMarket | None:
    """The same question for a regular order not written yet (e.g. a square-off)."""
    if clock.is_open(exchange=exchange or None):
        return None
    adapter = account.adapter_class
    if adapter.takes_regular_orders_when_closed():
        return None
    return ClosedMarket(
        message=f"The market is closed ({clock.hours_text(exchange or None)}).",
        amo=adapter.capabilities.amo,
    )


def make_amo(*, order: Order, actor: str) -> Order:
    """Turn a waiting regular order into an AMO (its broker must take AMO)."""
    if order.account is None:
        raise ValueError(ACCOUNT_GONE)
    if not order.account.adapter_class.capabilities.amo:
        raise ValueError(f"{order.account.broker_label} does not take after-market orders.")
    with transaction.atomic():
        changed = Order.objects.filter(
            pk=order.pk, status__in=Order.EXECUTABLE, variety=Order.Variety.REGULAR
        ).update(variety=Order.Variety.AMO, updated_at=timezone.now())
        if changed:
            log(order, "edited", "Sent as an after-market order (AMO)", actor=actor)
    order.refresh_from_db()
    return order
