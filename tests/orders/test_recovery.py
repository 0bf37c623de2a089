"""The sweeper: AUTO orders and triggered GTTs a lost worker left behind are sent
(once), stale ones become a visible FAILED; nothing else is touched."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from orders.execution import create_order
from orders.models import Order, Strategy
from orders.recovery import sweep_stranded
from sigmatrader.celery import app
from sigmatrader.models import SystemEvent
from tests.orders.test_order_lifecycle import placed, trading  # noqa: F401 (fixture)


@pytest.fixture
def eager():
    """The re-enqueued task runs in this process (the transport is tested elsewhere)."""
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def alert_order(account, mode, *, age, symbol="SBIN", status=None):
    strategy, _ = Strategy.objects.get_or_create(
        user=account.user, name=f"s-{mode}", defaults={"mode": mode, "account": account}
    )
    order = create_order(
        user=account.user,
        account=account,
        symbol=f"NSE:{symbol}",
        side="BUY",
        quantity=1,
        actor="webhook",
        source=Order.Source.TRADINGVIEW,
        strategy=strategy,
    )
    at = timezone.now() - timedelta(seconds=age)
    Order.objects.filter(pk=order.pk).update(
        created_at=at, updated_at=at, status=status or Order.Status.WAITING
    )
    return Order.objects.get(pk=order.pk)


def test_the_sweeper_is_scheduled(db):
    task = PeriodicTask.objects.get(task="orders.sweep_stranded_orders")
    assert task.enabled and task.interval.every == 30 and task.interval.period == "seconds"


def test_sweeper_sends_stranded_orders_once_and_fails_stale_ones(trading, settings, eager):  # noqa: F811
    account, peer = trading
    settings.ORDER_SWEEP_GRACE_SECONDS = 30
    settings.ORDER_AUTO_MAX_AGE_SECONDS = 300
    peer.server.state.market.set_price("NSE", "SBIN", "800")
    stranded = alert_order(account, "AUTO", age=60)
    fresh = alert_order(account, "AUTO", age=5)
    manual = alert_order(account, "MANUAL", age=600)
    stale = alert_order(account, "AUTO", age=900)
    triggered = alert_order(account, "AUTO", age=60, status=Order.Status.TRIGGERED)

    assert sweep_stranded() == {"requeued": 2, "failed": 1}
    for order in (stranded, fresh, manual, stale, triggered):
        order.refresh_from_db()
    assert stranded.status == "SENT" and triggered.status == "SENT"
    assert fresh.status == "WAITING" and manual.status == "WAITING"
    assert stale.status == "FAILED" and "no worker sent it" in stale.status_message
    assert stale.events.filter(to_status="FAILED", actor="sweeper").exists()
    assert SystemEvent.objects.filter(user=account.user, message__contains=f"#{stale.pk}")
    assert placed(peer) == 2

    # A second sweep (or the lost message turning up after all) sends nothing again.
    assert sweep_stranded() == {"requeued": 0, "failed": 0}
    from orders.tasks import execute_order

    assert execute_order(stranded.pk).startswith("Order #")
    assert execute_order(stale.pk).startswith("Order #")  # FAILED waits for its trader
    assert placed(peer) == 2
