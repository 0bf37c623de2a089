"""A placement slower than the reconcile grace: the broker's late acceptance is
adopted (even after the sync marked the order FAILED), a re-execution looks at
the broker first and never places a second order, and a grace shorter than the
worst-case placement time is refused by a system check."""

import threading
import time
from decimal import Decimal

import pytest
from django.db import connections

from emulator import Fault
from orders import actions
from orders.checks import reconcile_grace_covers_placement
from orders.execution import NotExecutable, execute
from orders.models import Order
from orders.sync import NOT_RECEIVED, order_sync_account
from sigmatrader.models import SystemEvent
from tests.orders.test_order_lifecycle import new, placed, trading  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db(transaction=True)


def in_thread(work):
    outcome = {}

    def run():
        try:
            outcome["order"] = work()
        except Exception as exc:  # noqa: BLE001 (reported by the test)
            outcome["error"] = exc
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def wait_for(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError("timed out")


def at_broker(peer, order):
    return [o for o in peer.user.book.orders.values() if o.tag == order.client_tag]


def test_acceptance_after_the_sync_gave_up_is_adopted(trading):  # noqa: F811
    account, peer = trading  # grace 0, order timeout 1.5 s
    peer.server.state.market.set_price("NSE", "SBIN", "800")
    order = new(account)
    peer.server.state.inject(peer.wire, "place", Fault("latency", seconds=1.0))
    thread, outcome = in_thread(lambda: execute(order=Order.objects.get(pk=order.pk), actor="a"))
    wait_for(lambda: Order.objects.get(pk=order.pk).status == "SENDING")
    time.sleep(0.3)
    order_sync_account(account)  # the broker has not shown it yet: FAILED, "not received"
    assert Order.objects.get(pk=order.pk).status == "FAILED"
    thread.join()
    assert "error" not in outcome, outcome
    order.refresh_from_db()
    assert order.status == "SENT" and order.broker_order_id
    assert order.broker_order_id == at_broker(peer, order)[0].order_id
    with pytest.raises(NotExecutable):
        execute(order=order, actor="alice")
    assert placed(peer) == 1


def _failed_then_surfacing(account, peer, **fields):
    """The placement times out (UNKNOWN); the sync gives up (FAILED); then the
    broker, slower than the grace, shows the order."""
    peer.server.state.market.set_price("NSE", "SBIN", "800")
    order = new(account, **fields)
    peer.server.state.inject(peer.wire, "place", Fault("latency", seconds=2.5))
    order = execute(order=order, actor="alice")
    assert order.status == "UNKNOWN"
    order_sync_account(account)
    order.refresh_from_db()
    assert (order.status, order.status_message) == ("FAILED", NOT_RECEIVED)
    wait_for(lambda: at_broker(peer, order))
    return order


@pytest.mark.parametrize("first", ["sync", "execute again"])
def test_tag_that_surfaces_after_failed_is_adopted_never_sent_twice(trading, first):  # noqa: F811
    account, peer = trading
    order = _failed_then_surfacing(account, peer)
    if first == "sync":
        order_sync_account(account)
    else:
        with pytest.raises(NotExecutable):
            execute(order=order, actor="alice")
    order.refresh_from_db()
    remote = at_broker(peer, order)
    assert len(remote) == 1 and order.broker_order_id == remote[0].order_id
    assert order.status in ("SENT", "OPEN", "EXECUTED"), order.status
    assert order.events.filter(message__contains="adopted", from_status="FAILED").exists()
    assert SystemEvent.objects.filter(message__contains=f"#{order.pk}", level="warning")
    with pytest.raises(NotExecutable):
        execute(order=order, actor="alice")
    order_sync_account(account)
    assert placed(peer) == 1


def test_not_sent_again_while_the_broker_cannot_be_checked(trading):  # noqa: F811
    account, peer = trading
    order = _failed_then_surfacing(account, peer)
    type(account).objects.filter(pk=account.pk).update(status="disconnected")
    with pytest.raises(NotExecutable, match="may still appear at the broker"):
        execute(order=Order.objects.get(pk=order.pk), actor="alice")
    order.refresh_from_db()
    assert (order.status, order.status_message) == ("FAILED", NOT_RECEIVED)
    assert placed(peer) == 1


def test_system_check_refuses_a_grace_shorter_than_placement(settings):
    settings.BROKER_ORDER_TIMEOUT = 10
    settings.BROKER_READ_TIMEOUT = 7
    settings.BROKER_READ_RETRIES = 2
    settings.BROKER_RATE_LIMIT_MAX_WAIT = 3
    settings.ORDER_RECONCILE_GRACE_SECONDS = 60
    errors = reconcile_grace_covers_placement()
    assert [e.id for e in errors] == ["orders.E001"] and "88 s" in errors[0].msg
    settings.ORDER_RECONCILE_GRACE_SECONDS = 120
    assert reconcile_grace_covers_placement() == []


def test_cancelling_a_failed_order_that_surfaced_cancels_it_at_the_broker(trading):  # noqa: F811
    account, peer = trading
    order = _failed_then_surfacing(account, peer, order_type="LIMIT", price=Decimal("700"))
    actions.cancel(order=order, actor="alice")
    order_sync_account(account)
    order.refresh_from_db()
    assert order.status == "CANCELLED" and order.broker_order_id
    assert at_broker(peer, order)[0].status == "CANCELLED"
