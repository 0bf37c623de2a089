"""Truth, not intent; the outbox's retries, digests, quiet hours and failures."""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.utils import timezone

from marketdata import refresh
from notifications import delivery, services
from notifications.classify import Cause
from notifications.models import Notification
from orders.execution import create_order, execute
from orders.models import Order
from orders.sync import order_sync_account
from sigmatrader.models import SystemEvent
from tests.brokers.peers import connected_account

from .conftest import CHAT, TOKEN, deliver_all, emails
from .helpers import account_of, move, order_of

IST = ZoneInfo("Asia/Kolkata")
S = Order.Status


@pytest.fixture
def trading(emulator, user, settings, prefs):
    settings.MARKET_ALWAYS_OPEN = True
    account, peer = connected_account(emulator, user, "zerodha", "main")
    refresh.refresh_instruments(broker="zerodha")
    peer.server.state.market.set_price("NSE", "SBIN", "810.50")
    return account, peer


def test_placing_an_order_sends_nothing_and_the_fill_after_sync_sends_one(trading, telegram):
    account, _ = trading
    Notification.objects.all().delete()  # the account's own connect events
    order = create_order(
        user=account.user, account=account, symbol="NSE:SBIN", side="BUY", quantity=2, actor="alice"
    )
    order = execute(order=order, actor="alice")
    assert order.status == S.SENT
    assert not Notification.objects.exists()
    assert deliver_all() == 0 and telegram.state.sent == [] and emails() == []

    order_sync_account(account)
    order.refresh_from_db()
    assert order.status == S.EXECUTED
    deliver_all()
    (message,) = telegram.state.messages_to(CHAT)
    assert "Order executed" in message.text and "2 @ ₹810.50" in message.text
    assert "IST" in message.text and "AB1234" not in message.text
    assert len(emails()) == 1 and "₹810.50" in emails()[0].body


def test_a_basket_of_fifty_fills_is_one_message(trading, telegram):
    account, _ = trading
    Notification.objects.all().delete()
    for _ in range(50):
        order = create_order(
            user=account.user,
            account=account,
            symbol="NSE:SBIN",
            side="BUY",
            quantity=1,
            actor="alice",
        )
        execute(order=order, actor="alice")
    order_sync_account(account)
    assert Notification.objects.filter(channel="telegram").count() == 50
    deliver_all()
    (message,) = telegram.state.messages_to(CHAT)
    assert "50 updates" in message.text and len(message.text) <= 4096
    assert len(emails()) == 1 and emails()[0].body.count("Order executed") == 50


def test_a_burst_still_arriving_waits_to_be_folded(user, prefs, telegram, settings):
    settings.NOTIFICATIONS_DIGEST_SECONDS = 2
    account = account_of(user)
    now = timezone.now()
    for n in range(3):
        move(order_of(account), S.REJECTED, status_message=f"reason {n}")
    outcome = delivery.deliver(user_id=user.pk, channel="telegram", now=now)
    assert outcome.sent == 0 and outcome.later and telegram.state.sent == []
    outcome = delivery.deliver(user_id=user.pk, channel="telegram", now=now + timedelta(seconds=3))
    assert outcome.sent == 3 and len(telegram.state.sent) == 1


def test_429_is_retried_after_retry_after_and_sent_once(user, prefs, telegram):
    telegram.state.fail("sendMessage", "429", 7)
    move(order_of(account_of(user)), S.REJECTED, status_message="RMS: blocked")
    now = timezone.now() + timedelta(seconds=1)
    outcome = delivery.deliver(user_id=user.pk, channel="telegram", now=now)
    assert outcome.sent == 0 and outcome.later >= 7 and telegram.state.sent == []
    row = Notification.objects.get(channel="telegram")
    assert row.state == "pending" and row.due_at >= now + timedelta(seconds=7)
    # Early (a redelivered task, the sweep): nothing is due yet.
    assert (
        delivery.deliver(user_id=user.pk, channel="telegram", now=now + timedelta(seconds=2)).sent
        == 0
    )
    later = now + timedelta(seconds=8)
    assert delivery.deliver(user_id=user.pk, channel="telegram", now=later).sent == 1
    assert delivery.deliver(user_id=user.pk, channel="telegram", now=later).sent == 0
    assert len(telegram.state.messages_to(CHAT)) == 1
    assert telegram.state.calls.count("sendMessage") == 2


@pytest.mark.parametrize("fault", ["500", "timeout"])
def test_a_5xx_or_no_answer_is_retried_with_backoff(fault, user, prefs, telegram):
    telegram.state.fail("sendMessage", fault)
    move(order_of(account_of(user)), S.REJECTED, status_message="RMS: blocked")
    now = timezone.now() + timedelta(seconds=1)
    outcome = delivery.deliver(user_id=user.pk, channel="telegram", now=now)
    assert outcome.sent == 0 and outcome.error
    assert (
        delivery.deliver(user_id=user.pk, channel="telegram", now=now + timedelta(minutes=1)).sent
        == 1
    )
    assert len(telegram.state.messages_to(CHAT)) == 1


def test_a_delivery_that_keeps_failing_is_an_event_and_the_order_is_untouched(
    user, prefs, telegram, settings
):
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 3
    telegram.state.fail("sendMessage", "500", times=10)
    order = order_of(account_of(user))
    move(order, S.REJECTED, status_message="RMS: blocked")
    at = timezone.now()
    for _ in range(4):
        at += timedelta(minutes=5)
        delivery.deliver(user_id=user.pk, channel="telegram", now=at)
    row = Notification.objects.get(channel="telegram")
    assert row.state == "failed" and row.attempts == 3 and "Bad Gateway" in row.last_error
    failure = SystemEvent.objects.get(user=user, message__contains="not delivered")
    assert "Telegram notification not delivered after 3 attempt" in failure.message
    # The failure event notifies nothing (no loop), and the order is as the broker left it.
    assert Notification.objects.filter(user=user).count() == 2
    order.refresh_from_db()
    assert order.status == S.REJECTED


def test_a_broken_notification_never_undoes_a_sync(trading, telegram, monkeypatch):
    account, _ = trading

    def broken(*args, **kwargs):
        raise RuntimeError("notifications are broken")

    monkeypatch.setattr("notifications.receivers.notify", broken)
    order = create_order(
        user=account.user, account=account, symbol="NSE:SBIN", side="BUY", quantity=2, actor="alice"
    )
    execute(order=order, actor="alice")
    order_sync_account(account)
    order.refresh_from_db()
    assert order.status == S.EXECUTED and order.events.filter(to_status=S.EXECUTED).exists()


def test_the_outbox_row_rolls_back_with_its_event(user, prefs, telegram):
    from django.db import transaction

    order = order_of(account_of(user))
    with pytest.raises(RuntimeError), transaction.atomic():
        move(order, S.REJECTED, status_message="RMS: blocked")
        assert Notification.objects.count() == 2
        raise RuntimeError("the sync failed after writing")
    assert Notification.objects.count() == 0


def test_quiet_hours_hold_messages_until_they_end(user, prefs, telegram):
    prefs.quiet_start, prefs.quiet_end = time(22, 0), time(7, 0)
    prefs.save()
    night = datetime(2026, 11, 26, 23, 30, tzinfo=IST)
    services.notify(
        [Cause("alert_fired", user.pk, "Alert fired", "SBIN crossed 800", "night-1")], now=night
    )
    row = Notification.objects.get(channel="telegram")
    assert timezone.localtime(row.due_at, IST) == datetime(2026, 11, 27, 7, 0, tzinfo=IST)
    assert (
        delivery.deliver(user_id=user.pk, channel="telegram", now=night + timedelta(hours=2)).sent
        == 0
    )
    morning = datetime(2026, 11, 27, 7, 1, tzinfo=IST)
    assert delivery.deliver(user_id=user.pk, channel="telegram", now=morning).sent == 1


def test_messages_are_escaped_labelled_masked_and_within_the_limit(user, prefs, telegram):
    paper = account_of(user, broker="paper", label="practice <&> desk", broker_user_id="PAPER99")
    order = order_of(paper, symbol="M&M<b>")
    move(order, S.REJECTED, status_message="Refused: <script>alert(1)</script> & " + "x" * 6000)
    deliver_all()
    (message,) = telegram.state.messages_to(CHAT)  # the emulator refuses HTML that doesn't parse
    assert "[PAPER]" in message.text and len(message.text) <= 4096
    assert "&lt;script&gt;" in message.text and "M&amp;M&lt;b&gt;" in message.text
    assert "PAPER99" not in message.text and "PA•••99" in message.text
    assert "[PAPER]" in emails()[0].subject


def test_secrets_are_absent_from_logs_the_database_and_the_page(
    user, prefs, telegram, caplog, signed_in
):
    caplog.set_level(logging.DEBUG)
    telegram.state.fail("sendMessage", "500")
    move(order_of(account_of(user)), S.REJECTED, status_message="RMS: blocked")
    deliver_all()
    deliver_all(at=timezone.now() + timedelta(minutes=1))
    logging.getLogger("test").warning("GET %s/bot%s/sendMessage", telegram.url, TOKEN)
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert TOKEN not in text and TOKEN.split(":")[1] not in text
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM notifications_telegrambot")
        (stored,) = cursor.fetchone()
    assert TOKEN.split(":")[1] not in stored
    assert TOKEN.split(":")[1] not in signed_in.get("/settings/").content.decode()
    assert not SystemEvent.objects.filter(message__contains=TOKEN.split(":")[1]).exists()


def test_the_bot_keeps_within_its_messages_per_second(user, other_user, telegram, settings):
    from notifications.models import Preferences

    settings.TELEGRAM_MESSAGES_PER_SECOND = 1
    for person, chat in ((user, "1001"), (other_user, "1002")):
        Preferences.objects.create(user=person, telegram_enabled=True, telegram_chat_id=chat)
        move(order_of(account_of(person)), S.REJECTED, status_message="RMS")
    at = timezone.now() + timedelta(seconds=1)
    first = delivery.deliver(user_id=user.pk, channel="telegram", now=at)
    second = delivery.deliver(user_id=other_user.pk, channel="telegram", now=at)
    assert first.sent == 1 and second.sent == 0 and second.later == 1.0
    later = at + timedelta(seconds=1)
    assert delivery.deliver(user_id=other_user.pk, channel="telegram", now=later).sent == 1
