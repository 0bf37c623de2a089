"""Races: the kill switch pressed at once from several places, and AUTO orders
executing while a halt trips (real threads, real database transactions)."""

import threading
from decimal import Decimal

import pytest
from django.db import connections

from orders.execution import NotExecutable, create_order, execute
from orders.models import Order, OrderEvent, TradingHalt
from protection import halts
from protection.models import HaltAction, LossLimit
from tests.protection.helpers import halt_now

pytestmark = pytest.mark.django_db(transaction=True)


def run_together(count, work):
    outcomes, barrier = [], threading.Barrier(count)

    def worker(i):
        try:
            barrier.wait()
            outcomes.append(work(i))
        except Exception as exc:  # noqa: BLE001 (the outcome is what the test reads)
            outcomes.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_kill_switch_pressed_four_times_at_once_acts_once(desk):
    account, peer, strategy = desk
    queued = create_order(
        user=account.user, account=account, symbol="NSE:TCS", side="BUY", quantity=1, actor="a"
    )
    outcomes = run_together(
        4,
        lambda i: (
            halts.kill_switch(user=account.user, account=None, typed="ALL", actor=f"press{i}").pk
        ),
    )
    assert all(isinstance(o, int) for o in outcomes), outcomes
    assert len(set(outcomes)) == 1 and TradingHalt.objects.count() == 1
    sells = [o for o in peer.user.book.orders.values() if o.symbol == "SBIN"]
    assert len(sells) == 1 and sells[0].side == "SELL"  # squared off exactly once
    # The three presses that found the halt started are recorded on it, doing nothing twice.
    assert HaltAction.objects.filter(halt_id=outcomes[0], kind="press").count() == 3
    actions = HaltAction.objects.filter(halt_id=outcomes[0]).exclude(kind="press")
    assert sorted(actions.values_list("kind", flat=True)) == [
        "block",
        "cancel",
        "pause",
        "square_off",
    ]
    assert all(a.state == "done" and a.attempts == 1 for a in actions)
    queued.refresh_from_db()
    assert queued.status == "CANCELLED"


def test_auto_orders_racing_the_trip_are_sent_before_it_or_cancelled_after(desk):
    """Eight AUTO orders execute while the limit trips (escalation: cancel entries).
    An order claimed before the halt committed reached the broker and is then
    cancelled by the halt; one claimed after it never leaves. None slips past."""
    account, peer, strategy = desk
    orders = [
        create_order(
            user=account.user,
            account=account,
            symbol="NSE:TCS",
            side="BUY",
            quantity=1,
            order_type="LIMIT",
            price=Decimal("3900"),  # rests OPEN at the broker: a cancel can still reach it
            product="MIS",
            actor="webhook",
            strategy=strategy,
            source=Order.Source.TRADINGVIEW,
        )
        for _ in range(8)
    ]

    def work(i):
        if i == 8:
            return halt_now(account, escalation=LossLimit.Escalation.CANCEL)
        try:
            return execute(
                order=Order.objects.get(pk=orders[i].pk),
                actor="strategy:Breakout",
                claim_from=(Order.Status.WAITING,),
            ).status
        except NotExecutable as exc:
            return exc.message

    outcomes = run_together(9, work)
    assert not any(isinstance(o, Exception) for o in outcomes), outcomes
    assert TradingHalt.objects.count() == 1  # one halt, whatever raced it
    halts.retry_actions()  # what was still SENDING at the trip is cancelled now
    at_broker = {o.tag: o for o in peer.user.book.orders.values() if o.symbol == "TCS"}
    for order in Order.objects.filter(pk__in=[o.pk for o in orders]):
        sending = OrderEvent.objects.filter(order=order, to_status="SENDING").first()
        if order.client_tag in at_broker:
            # Claimed before the halt committed, and cancelled by it. (Not "before its
            # created_at": that is stamped before the commit, and on PostgreSQL a claim
            # in between does not see the halt yet; the cancel is what catches it.)
            assert sending is not None
            assert at_broker[order.client_tag].status == "CANCELLED", order
        else:
            assert order.status in ("FAILED", "CANCELLED"), order
    refused = Order.objects.filter(pk__in=[o.pk for o in orders], status="FAILED")
    assert all("Trading halted" in o.status_message for o in refused)
