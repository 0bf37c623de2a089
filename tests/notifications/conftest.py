"""A Telegram Bot API emulator on loopback, Django's locmem e-mail, and a user
who turned both channels on."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from emulator.telegram import TelegramServer

TOKEN = "123456789:AAFakeBotTokenForTests-abcdefghijklmno"
CHAT = "987654321"


@pytest.fixture
def telegram(settings, db):
    server = TelegramServer().start()
    settings.TELEGRAM_API_ROOT = server.url
    settings.TELEGRAM_TIMEOUT = 0.5
    server.state.timeout_seconds = 1.5
    settings.NOTIFICATIONS_DIGEST_SECONDS = 0
    from notifications.services import telegram_bot_set

    telegram_bot_set(token=TOKEN, username="sigma_test_bot")
    yield server
    server.stop()


@pytest.fixture
def prefs(user, telegram):
    from notifications.models import Preferences

    return Preferences.objects.create(
        user=user,
        email_enabled=True,
        telegram_enabled=True,
        telegram_chat_id=CHAT,
    )


def deliver_all(*, at=None) -> int:
    """Run what the delivery task runs, for every channel with pending rows."""
    from notifications import delivery
    from notifications.models import Notification

    at = at or timezone.now() + timedelta(seconds=1)
    sent = 0
    targets = set(Notification.objects.filter(state="pending").values_list("user_id", "channel"))
    for user_id, channel in sorted(targets):
        sent += delivery.deliver(user_id=user_id, channel=channel, now=at).sent
    return sent


def emails():
    return list(mail.outbox)
