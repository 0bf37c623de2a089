"""Each kind of event notifies once per channel, from the record the app writes."""

from __future__ import annotations

from decimal import Decimal

import pytest

from brokers import accounts
from notifications import daily
from notifications.kinds import CHOOSABLE, Kind
from notifications.models import Notification
from orders.models import Order, OrderEvent, WebhookAlert
from sigmatrader.events import record_event
from sigmatrader.models import SystemEvent

from .conftest import CHAT, deliver_all, emails
from .helpers import account_of, move, order_of

S = Order.Status


def cause(kind, user):
    """Make the app write the record that means `kind`; the expected title."""
    account = account_of(user)
    if kind == Kind.ORDER_EXECUTED:
        order = order_of(account)
        move(order, S.EXECUTED, filled_quantity=10, average_price=Decimal("810.5"))
        return "Order executed"
    if kind == Kind.ORDER_PARTIAL:
        order = order_of(account)
        move(order, S.PARTIALLY_FILLED, filled_quantity=4, average_price=Decimal("810.5"))
        return "Order partly filled"
    if kind == Kind.ORDER_PROBLEM:
        order = order_of(account)
        move(order, S.REJECTED, status_message="RMS: margin exceeds available funds")
        return "Order rejected"
    if kind == Kind.GTT_TRIGGERED:
        order = order_of(account, status=S.ARMED, is_gtt=True)
        move(order, S.TRIGGERED, "GTT triggered at 800")
        return "GTT triggered"
    if kind == Kind.RISK_BLOCK:
        order = order_of(account, status=S.SENDING)
        OrderEvent.objects.create(
            order=order,
            kind="risk",
            actor="alice",
            message="Order value over the limit",
            details={"allowed": False},
        )
        move(
            order,
            S.FAILED,
            "Order value over the limit",
            status_message="Order value over the limit",
        )
        return "Risk block"
    if kind == Kind.HALT:
        record_event(
            category="protection",
            level="warning",
            user=user,
            message="Kill switch engaged: all trading stopped",
            details={"kind": "kill_switch"},
        )
        return "Trading halt"
    if kind == Kind.ALERT_FIRED:
        record_event(category=SystemEvent.Category.ALERT, user=user, message="SBIN crossed 800")
        return "Alert fired"
    if kind == Kind.WEBHOOK_REFUSED:
        WebhookAlert.objects.create(
            user=user,
            outcome=WebhookAlert.Outcome.REJECTED,
            http_status=400,
            reason="Unknown symbol XYZ",
        )
        return "Webhook delivery refused"
    if kind == Kind.SESSION:
        accounts.mark_expired(account=account, reason="TokenException")
        return "Broker session"
    if kind == Kind.INSTRUMENTS_FAILED:
        record_event(
            category=SystemEvent.Category.MARKETDATA,
            level=SystemEvent.Level.ERROR,
            message="Zerodha instruments refresh failed; the previous master is kept: HTTP 503",
            details={"broker": "zerodha"},
        )
        return "Instrument refresh failed"
    if kind == Kind.DAILY_SUMMARY:
        order = order_of(account)
        move(order, S.EXECUTED, filled_quantity=10, average_price=Decimal("810.5"))
        Notification.objects.all().delete()
        daily.day_summaries()
        return "End of day"
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", [k.value for k in CHOOSABLE])
def test_each_kind_notifies_once_per_channel(kind, user, prefs, telegram):
    title = cause(kind, user)
    rows = Notification.objects.filter(user=user)
    assert sorted(rows.values_list("channel", "kind")) == [("email", kind), ("telegram", kind)]
    deliver_all()
    assert deliver_all() == 0  # nothing twice
    sent = telegram.state.messages_to(CHAT)
    assert len(sent) == 1 and title in sent[0].text
    assert len(emails()) == 1 and title in emails()[0].subject
    assert set(rows.values_list("state", flat=True)) == {"sent"}


@pytest.mark.parametrize("kind", [Kind.ORDER_EXECUTED, Kind.ALERT_FIRED])
def test_a_kind_switched_off_for_a_channel_does_not_go_there(kind, user, prefs, telegram):
    prefs.telegram_kinds = [k for k in prefs.telegram_kinds if k != kind]
    prefs.save()
    cause(kind, user)
    deliver_all()
    assert telegram.state.messages_to(CHAT) == [] and len(emails()) == 1


def test_other_users_hear_nothing(user, other_user, prefs, telegram):
    cause(Kind.ALERT_FIRED, other_user)
    assert not Notification.objects.exists()


def test_records_that_mean_nothing_notify_nothing(user, prefs, telegram):
    account = account_of(user)
    order = order_of(account, status=S.WAITING)
    move(order, S.SENDING, "Sending")
    move(order, S.SENT, "Accepted by the broker")  # placement: intent, not an outcome
    record_event(category=SystemEvent.Category.SECURITY, user=user, message="alice signed in")
    record_event(category=SystemEvent.Category.BROKER, user=user, message="Account added")
    assert not Notification.objects.exists()


def test_a_real_refused_webhook_delivery_notifies_with_the_reason(client, user, prefs, telegram):
    from django.urls import reverse

    from orders import webhook

    token = webhook.issue_token(user)
    response = client.post(
        reverse("tradingview-webhook", args=[token]),
        data="not json at all",
        content_type="text/plain",
    )
    assert response.status_code == 400
    deliver_all()
    (message,) = telegram.state.messages_to(CHAT)
    assert "Webhook delivery refused" in message.text and "JSON" in message.text
    assert token not in message.text


def test_a_protective_exit_firing_is_named_as_one_and_names_its_entry(user, prefs, telegram):
    account = account_of(user)
    entry = order_of(account, status=Order.Status.EXECUTED)
    leg = order_of(
        account,
        status=Order.Status.ARMED,
        source=Order.Source.PROTECTION,
        protects=entry,
    )
    move(leg, Order.Status.TRIGGERED, "Triggered: LTP at or above ₹1,513.40")
    deliver_all()
    (sent,) = telegram.state.messages_to(CHAT)
    assert "Protective exit triggered" in sent.text and "GTT" not in sent.text
    assert f"(protective exit of #{entry.pk})" in sent.text
