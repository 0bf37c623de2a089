"""Settings → Notifications through the views: scoped to the user, errors said."""

from __future__ import annotations

import pytest
from django.core import mail

from notifications.models import Notification, Preferences
from sigmatrader.events import record_event

from .conftest import CHAT, TOKEN


def test_the_card_shows_no_token_and_a_masked_chat(signed_in, prefs):
    page = signed_in.get("/settings/").content.decode()
    assert 'id="notifications"' in page and "98•••••21" in page
    assert CHAT not in page and TOKEN.split(":")[1] not in page


def test_saving_kinds_and_quiet_hours(signed_in, user, prefs):
    response = signed_in.post(
        "/notifications/settings/",
        {
            "email_enabled": "on",
            "email_address": "me@example.in",
            "email_kinds": ["order_executed", "order_problem", "not-a-kind"],
            "telegram_enabled": "on",
            "telegram_kinds": ["order_problem"],
            "quiet_start": "22:00",
            "quiet_end": "07:00",
        },
    )
    assert response.status_code == 422  # an unknown kind is refused, nothing saved
    assert Preferences.objects.get(user=user).email_address == ""
    response = signed_in.post(
        "/notifications/settings/",
        {
            "email_enabled": "on",
            "email_address": "me@example.in",
            "email_kinds": ["order_executed", "order_problem"],
            "telegram_enabled": "on",
            "telegram_kinds": ["order_problem"],
            "quiet_start": "22:00",
            "quiet_end": "07:00",
        },
    )
    assert response.status_code == 302
    prefs.refresh_from_db()
    assert prefs.email_kinds == ["order_executed", "order_problem"]
    assert prefs.telegram_kinds == ["order_problem"] and str(prefs.quiet_start) == "22:00:00"


def test_half_quiet_hours_are_refused_with_a_message(signed_in, prefs):
    response = signed_in.post("/notifications/settings/", {"quiet_start": "22:00"})
    assert response.status_code == 422
    assert "both a start and an end" in response.content.decode()


def test_send_test_by_email_and_the_error_without_an_address(signed_in, user, prefs):
    assert signed_in.post("/notifications/test/email/").status_code == 302
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [user.email]
    user.email = ""
    user.save()
    response = signed_in.post("/notifications/test/email/")
    assert response.status_code == 422
    assert "Set an e-mail address first." in response.content.decode()


def test_link_without_a_bot_says_so(signed_in, db):
    response = signed_in.post("/notifications/telegram/link/")
    assert response.status_code == 409 and "No Telegram bot" in response.content.decode()


def test_unlink_stops_telegram(signed_in, user, prefs):
    signed_in.post("/notifications/telegram/unlink/")
    prefs.refresh_from_db()
    assert prefs.telegram_chat_id == "" and not prefs.telegram_enabled
    record_event(category="alert", user=user, message="SBIN crossed 800")
    assert list(Notification.objects.values_list("channel", flat=True)) == ["email"]


@pytest.mark.parametrize(
    ("named", "kind"),
    [
        ("protective_exit_triggered", "gtt_triggered"),
        ("halt_tripped", "halt"),
        ("kill_switch", "halt"),
    ],
)
def test_capital_protection_events_are_recognised_by_their_kind(user, prefs, named, kind):
    record_event(category="order", user=user, message=f"{named} happened", details={"kind": named})
    assert set(Notification.objects.values_list("kind", flat=True)) == {kind}


@pytest.mark.parametrize(
    ("message", "details", "kind"),
    [
        ("Trading halted for all accounts: day loss over the limit.", {"halt_id": 3}, "halt"),
        ("Kill switch pressed again for main by alice.", {"halt_id": 3}, "halt"),
        (
            "Order #9 BUY SBIN on main: NOT protected — GTT refused",
            {"exit_plan": 2},
            "order_problem",
        ),
    ],
)
def test_capital_protection_events_as_issue_18_records_them(user, prefs, message, details, kind):
    record_event(category="order", level="warning", user=user, message=message, details=details)
    assert set(Notification.objects.values_list("kind", flat=True)) == {kind}


def test_telegram_cannot_be_switched_on_without_a_bot_or_a_linked_chat(signed_in, user, db):
    """The review found 'Send to Telegram' saved 'settings saved' with no bot: nothing could
    ever be delivered, and nothing said so."""
    form = {"telegram_enabled": "on", "telegram_kinds": ["order_problem"]}
    response = signed_in.post("/notifications/settings/", form)
    assert response.status_code == 422
    assert "No Telegram bot is set up on this server yet" in response.content.decode()
    assert "manage.py telegram_bot --set-token" in response.content.decode()
    assert not Preferences.objects.filter(user=user, telegram_enabled=True).exists()


def test_with_a_bot_telegram_needs_the_chat_linked_first(signed_in, user, prefs):
    Preferences.objects.filter(user=user).update(telegram_chat_id="")
    response = signed_in.post("/notifications/settings/", {"telegram_enabled": "on"})
    assert response.status_code == 422
    assert "Link your Telegram chat first" in response.content.decode()
