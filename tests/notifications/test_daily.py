"""The morning login reminder (adapters whose sessions end daily) and the
end-of-day summary per account."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from brokers.models import BrokerAccount
from brokers.registry import get_adapter_class
from notifications import daily
from notifications.models import Notification
from orders.models import Order
from portfolio.models import Position

from .conftest import CHAT, deliver_all
from .helpers import account_of, move, order_of

IST = ZoneInfo("Asia/Kolkata")
MORNING = datetime(2026, 11, 26, 8, 30, tzinfo=IST)


def test_the_capability_decides_who_needs_a_daily_login():
    assert get_adapter_class("zerodha").capabilities.daily_login
    assert not get_adapter_class("angelone").capabilities.daily_login
    assert not get_adapter_class("paper").capabilities.daily_login


def test_a_morning_reminder_for_accounts_not_logged_in_since_the_session_ended(
    user, prefs, telegram
):
    stale = account_of(user, label="main")
    BrokerAccount.objects.filter(pk=stale.pk).update(
        connected_at=datetime(2026, 11, 25, 9, 0, tzinfo=IST)
    )
    fresh = account_of(user, label="fresh", broker_user_id="ZX9999")
    BrokerAccount.objects.filter(pk=fresh.pk).update(
        connected_at=datetime(2026, 11, 26, 7, 45, tzinfo=IST)
    )
    account_of(user, broker="angelone", label="other", broker_user_id="A1")
    assert daily.login_reminders(now=MORNING) == 2  # one account, two channels
    daily.login_reminders(now=MORNING)  # again (a second beat run): the dedup key keeps one
    assert Notification.objects.filter(channel="telegram").count() == 1
    deliver_all(at=MORNING.replace(minute=31))
    (message,) = telegram.state.messages_to(CHAT)
    assert "Daily login needed" in message.text and "main" in message.text
    assert "AB••34" in message.text and "09:15 IST" in message.text


def test_an_end_of_day_summary_per_account(user, prefs, telegram):
    account = account_of(user)
    quiet = account_of(user, label="idle", broker_user_id="QQ1111")
    move(order_of(account), Order.Status.EXECUTED, filled_quantity=10, average_price=Decimal("5"))
    move(order_of(account), Order.Status.REJECTED, status_message="RMS")
    Position.objects.create(
        account=account,
        symbol="SBIN",
        exchange="NSE",
        product="MIS",
        quantity=0,
        average_price=Decimal("0"),
        last_price=Decimal("0"),
        pnl=Decimal("1250.50"),
    )
    Notification.objects.all().delete()
    assert daily.day_summaries() == 2
    (row,) = Notification.objects.filter(channel="email")
    assert "2 order(s), 1 executed" in row.body and "1 rejected or failed" in row.body
    assert "₹1,250.50" in row.body and quiet.label not in row.body
