"""Actions: an order on the rule's account through the order service — queued or
sent, sized and capped, exactly once — and holdings targets per account."""

from decimal import Decimal

import pytest
from celery import current_app as celery_app
from django.utils import timezone

from alerts import engine
from alerts.actions import size_order
from alerts.models import AlertEvent, AlertRule
from marketdata import refresh
from orders.models import Order
from portfolio.sync import portfolio_sync_account
from sigmatrader.models import SystemEvent
from tests.alerts.helpers import price, rule
from tests.brokers.peers import connected_account
from tests.portfolio.helpers import seed

D = Decimal


@pytest.fixture
def eager():
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False


@pytest.fixture
def accounts(emulator, user, settings):
    """Two accounts of `user`: "main" holds SBIN 10 @ 600, "family" holds SBIN 30 @ 500
    and INFY 4 @ 1500."""
    settings.MARKET_CLOCK = "always-open"
    settings.ORDER_RECONCILE_GRACE_SECONDS = 0
    main, main_peer = connected_account(emulator, user, "zerodha", "main", default=True)
    family, family_peer = connected_account(emulator, user, "angelone", "family")
    refresh.refresh_instruments(broker="zerodha")
    refresh.refresh_instruments(broker="angelone")
    seed(main_peer, holdings=[("SBIN", 10, "600")])
    seed(family_peer, holdings=[("SBIN", 30, "500"), ("INFY", 4, "1500")])
    assert portfolio_sync_account(main).ok and portfolio_sync_account(family).ok
    return main, family


@pytest.fixture
def order_rule(user):
    """A rule of `user` that queues an order: `order_rule(account, "SELL", "pct", "50", ...)`."""

    def make(account, side, sizing, size, **fields):
        values = {
            "expression": "close >= 1",
            "action": AlertRule.Action.QUEUE,
            "action_account": account,
            "side": side,
            "sizing": sizing,
            "size": D(size),
        }
        values.update(fields)
        return rule(user, **values)

    return make


def test_size_order_by_quantity_amount_and_holding_percent():
    r = AlertRule(side="BUY", sizing=AlertRule.Sizing.QUANTITY, size=D("7"))
    assert size_order(rule=r, price=D(100), held=0).quantity == 7
    # A fractional quantity (saved before the form refused it) trades nothing, and says why.
    r = AlertRule(side="BUY", sizing=AlertRule.Sizing.QUANTITY, size=D("1.5"))
    sized = size_order(rule=r, price=D(100), held=0)
    assert sized.quantity == 0 and "1.5 is not a whole number" in sized.reason
    r = AlertRule(side="BUY", sizing=AlertRule.Sizing.AMOUNT, size=D("10000"))
    assert size_order(rule=r, price=D("333"), held=0).quantity == 30
    assert size_order(rule=r, price=D("333"), held=0, lot_size=25).quantity == 25
    r = AlertRule(side="SELL", sizing=AlertRule.Sizing.HOLDING_PCT, size=D("50"))
    assert size_order(rule=r, price=D(1), held=15).quantity == 7
    r = AlertRule(side="SELL", sizing=AlertRule.Sizing.QUANTITY, size=D("100"))
    assert size_order(rule=r, price=D(1), held=15).quantity == 15  # never more than held
    sized = size_order(rule=r, price=D(1), held=0)
    assert sized.quantity == 0 and "Nothing held" in sized.reason
    r = AlertRule(side="BUY", sizing=AlertRule.Sizing.AMOUNT, size=D("50"))
    sized = size_order(rule=r, price=D(100), held=0)
    assert sized.quantity == 0 and "less than 1" in sized.reason
    r = AlertRule(side="SELL", sizing=AlertRule.Sizing.HOLDING_PCT, size=D("100"))
    assert size_order(rule=r, price=D(1), held=60, lot_size=25).quantity == 50


def test_queue_action_makes_one_waiting_order_on_the_rules_account(accounts, user, order_rule):
    main, family = accounts
    r = order_rule(
        family, "SELL", AlertRule.Sizing.HOLDING_PCT, "50", trigger=AlertRule.Trigger.ONCE_PER_BAR
    )
    price("SBIN", 640)
    assert engine.run_cycle()["fired"] == 1
    order = Order.objects.get()
    assert order.account == family and order.source == Order.Source.ALERT
    assert (order.side, order.quantity, order.status) == ("SELL", 15, Order.Status.WAITING)
    event = AlertEvent.objects.get(rule=r)
    assert event.order == order and "queued for review" in event.outcome
    assert SystemEvent.objects.filter(category=SystemEvent.Category.ALERT, user=user).exists()


def test_auto_action_sends_exactly_once_under_two_evaluators(
    accounts, eager, django_capture_on_commit_callbacks, order_rule
):
    main, _family = accounts
    order_rule(
        main,
        "BUY",
        AlertRule.Sizing.QUANTITY,
        "3",
        action=AlertRule.Action.AUTO,
        trigger=AlertRule.Trigger.ONCE,
    )
    price("SBIN", 640)
    second_evaluator = list(engine.due_rules(timezone.now()))
    with django_capture_on_commit_callbacks(execute=True):
        assert engine.run_cycle()["fired"] == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert engine.run_cycle(rules=second_evaluator)["fired"] == 0
    order = Order.objects.get()
    assert order.status in (Order.Status.SENT, Order.Status.OPEN, Order.Status.EXECUTED)
    assert order.broker_order_id and order.quantity == 3
    assert order.events.filter(kind="status", to_status=Order.Status.SENDING).count() == 1


def test_a_sell_with_nothing_held_makes_no_order_and_says_why(accounts, order_rule):
    main, _family = accounts
    order_rule(main, "SELL", AlertRule.Sizing.QUANTITY, "5", symbol="NSE:INFY")
    price("INFY", 1500)
    assert engine.run_cycle()["fired"] == 1
    assert not Order.objects.exists()
    assert "Nothing held" in AlertEvent.objects.get().outcome


def test_holdings_of_one_account_and_of_all_accounts(accounts, user):
    main, family = accounts
    one = rule(
        user,
        name="family",
        target=AlertRule.Target.HOLDINGS,
        holdings_account=family,
        symbol="",
        expression="pnl_pct >= 10",
    )
    every = rule(
        user,
        name="all",
        target=AlertRule.Target.HOLDINGS,
        symbol="",
        expression="pnl_pct >= 5",
    )
    price("SBIN", 640)  # main: +6.7 %, family: +28 %
    price("INFY", 1500)  # family: 0 %
    engine.run_cycle()
    assert [(e.symbol, e.account) for e in AlertEvent.objects.filter(rule=one)] == [
        ("NSE:SBIN", family)
    ]
    fired = {(e.symbol, e.account_id) for e in AlertEvent.objects.filter(rule=every)}
    assert fired == {("NSE:SBIN", main.pk), ("NSE:SBIN", family.pk)}
    event = AlertEvent.objects.get(rule=one)
    assert event.values["pnl_pct"] == pytest.approx(28.0)


def test_holdings_of_another_users_account_are_never_read(accounts, user, other_user):
    _main, family = accounts
    theirs = rule(
        other_user,
        target=AlertRule.Target.HOLDINGS,
        holdings_account=family,  # not theirs: forged
        symbol="",
        expression="qty > 0",
    )
    price("SBIN", 640)
    engine.run_cycle()
    assert not AlertEvent.objects.filter(rule=theirs).exists()


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_evaluators_place_each_order_once(accounts, user):
    """Two workers run a cycle at the same moment over the same rules (each loaded its
    own copies first): every rule fires once and makes one order."""
    import threading

    from django.db import connection

    main, _family = accounts
    for trigger in (AlertRule.Trigger.ONCE, AlertRule.Trigger.ONCE_PER_BAR, "every"):
        rule(
            user,
            name=trigger,
            expression="close >= 100",
            action=AlertRule.Action.QUEUE,
            action_account=main,
            side="BUY",
            sizing=AlertRule.Sizing.QUANTITY,
            size=D("1"),
            trigger=trigger,
            cooldown_seconds=600,
        )
    price("SBIN", 640)
    now = timezone.now()
    barrier = threading.Barrier(2)
    results, errors = [], []

    def evaluator():
        try:
            rules = list(engine.due_rules(now))
            barrier.wait(timeout=10)
            results.append(engine.run_cycle(rules=rules, now=now))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=evaluator) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert sorted(r["fired"] for r in results) in ([0, 3], [1, 2])
    assert sum(r["fired"] for r in results) == 3
    assert Order.objects.count() == 3 and AlertEvent.objects.count() == 3


def test_an_auto_order_whose_worker_was_lost_is_handed_again_then_left_to_the_trader(
    accounts, eager, settings, order_rule
):
    from datetime import timedelta

    from alerts.recovery import TOO_OLD, sweep_auto_orders

    settings.ORDER_SWEEP_GRACE_SECONDS = 30
    settings.ORDER_AUTO_MAX_AGE_SECONDS = 300
    main, _family = accounts
    order_rule(main, "BUY", AlertRule.Sizing.QUANTITY, "1", action=AlertRule.Action.AUTO)
    price("SBIN", 640)
    engine.run_cycle()  # the on-commit enqueue never runs here: the message is "lost"
    engine.run_cycle()
    first, second = Order.objects.order_by("pk")
    assert first.status == second.status == Order.Status.WAITING
    Order.objects.filter(pk=first.pk).update(created_at=timezone.now() - timedelta(seconds=60))
    Order.objects.filter(pk=second.pk).update(created_at=timezone.now() - timedelta(seconds=900))
    assert sweep_auto_orders() == {"requeued": 1, "left_to_trader": 1}
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == Order.Status.SENT
    assert second.status == Order.Status.WAITING  # never sent late
    assert AlertEvent.objects.get(order=second).outcome.endswith(TOO_OLD)
    assert sweep_auto_orders() == {"requeued": 0, "left_to_trader": 0}
    assert not AlertEvent.objects.filter(auto_send=True).exists()


def test_a_holdings_rule_over_all_accounts_orders_only_on_the_account_holding_the_shares(
    accounts, order_rule
):
    """Review (issue 17, item 2): a holding of "main" fired a sell sized from — and sent
    to — "family". The rule watches only its order account's holdings."""
    main, family = accounts
    order_rule(
        family,
        "SELL",
        AlertRule.Sizing.HOLDING_PCT,
        "50",
        target=AlertRule.Target.HOLDINGS,
        symbol="",
        expression="qty > 0",
    )
    price("SBIN", 640)
    price("INFY", 1500)
    engine.run_cycle()
    assert {e.account_id for e in AlertEvent.objects.all()} == {family.pk}
    orders = {(o.account_id, o.symbol, o.quantity) for o in Order.objects.all()}
    assert orders == {(family.pk, "NSE:SBIN", 15), (family.pk, "NSE:INFY", 2)}


def test_a_holdings_rule_naming_another_accounts_holdings_is_refused_and_says_why(
    accounts, order_rule
):
    main, family = accounts
    r = order_rule(
        family,
        "SELL",
        AlertRule.Sizing.HOLDING_PCT,
        "50",
        target=AlertRule.Target.HOLDINGS,
        holdings_account=main,
        symbol="",
        expression="qty > 0",
    )
    price("SBIN", 640)
    assert engine.run_cycle()["fired"] == 0
    r.refresh_from_db()
    assert not r.status_ok and "account that holds the shares" in r.status_message
    assert not Order.objects.exists()


def test_a_sell_leaves_the_shares_of_sells_already_waiting(accounts, user, order_rule):
    """Review: the paper broker refused "0 INFY free to sell" — the sizing counted
    shares an earlier (queued) sell already takes."""
    from orders.execution import create_order

    _main, family = accounts
    create_order(
        user=user,
        account=family,
        symbol="SBIN",
        exchange="NSE",
        side="SELL",
        quantity=20,
        actor="test",
    )
    order_rule(family, "SELL", AlertRule.Sizing.QUANTITY, "25")
    price("SBIN", 640)
    engine.run_cycle()
    made = Order.objects.filter(source=Order.Source.ALERT).get()
    assert made.quantity == 10  # 30 held, 20 already on their way out
    order_rule(family, "SELL", AlertRule.Sizing.QUANTITY, "5", name="again")
    engine.run_cycle()
    assert "Nothing held" in AlertEvent.objects.filter(rule__name="again").get().outcome


def test_once_on_several_symbols_means_once_per_symbol(accounts, user):
    """Review: "Once, then stop" fired for one holding of eight and disabled the rule."""
    r = rule(
        user,
        target=AlertRule.Target.HOLDINGS,
        symbol="",
        expression="qty > 0",
        trigger=AlertRule.Trigger.ONCE,
    )
    price("SBIN", 640)
    price("INFY", 1500)
    assert engine.run_cycle()["fired"] == 3  # main SBIN, family SBIN, family INFY
    assert engine.run_cycle()["fired"] == 0
    r.refresh_from_db()
    assert r.enabled and r.fired_count == 3
    assert "once per symbol" in r.when_text
    from alerts import services

    services.set_enabled(rule=r, enabled=False)
    services.set_enabled(rule=r, enabled=True)  # armed again
    assert engine.run_cycle()["fired"] == 3
