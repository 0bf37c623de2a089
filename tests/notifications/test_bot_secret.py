"""The bot token: encrypted at rest, rotated by reencrypt_secrets, unreadable loudly."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from notifications.models import TelegramBot
from notifications.services import telegram_bot_set
from sigmatrader.crypto import encrypted_fields

TOKEN = "555000111:AAHushHushBotToken-abcdefghijklmnop"


def stored() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM notifications_telegrambot")
        return cursor.fetchone()[0]


@pytest.fixture
def rekey(settings):
    def apply(secret, fallbacks=()):
        settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = secret, list(fallbacks)
        for field in encrypted_fields(TelegramBot):
            field.reset_keys()

    yield apply
    for field in encrypted_fields(TelegramBot):
        field.reset_keys()


def test_rotation_reencrypts_the_bot_token(db, rekey):
    rekey("old-key-" + "o" * 50)
    telegram_bot_set(token=TOKEN)
    before = stored()
    assert "HushHush" not in before
    rekey("new-key-" + "n" * 50, fallbacks=["old-key-" + "o" * 50])
    call_command("reencrypt_secrets")
    assert stored() != before
    rekey("new-key-" + "n" * 50)  # the old key retired: the token still opens
    assert TelegramBot.objects.get().token == TOKEN


def test_the_management_command_reads_the_token_from_stdin(db, monkeypatch, capsys):
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO(TOKEN + "\n"))
    call_command("telegram_bot", "--set-token", "--username", "@sigma_bot")
    assert "stored (encrypted)" in capsys.readouterr().out
    bot = TelegramBot.objects.get()
    assert bot.token == TOKEN and bot.username == "sigma_bot"
    call_command("telegram_bot")
    out = capsys.readouterr().out
    assert "@sigma_bot" in out and "HushHush" not in out


def test_an_undecryptable_token_fails_delivery_loudly_not_silently(user, prefs, telegram, rekey):
    from notifications import delivery
    from notifications.models import Notification
    from sigmatrader.events import record_event
    from sigmatrader.models import SystemEvent

    rekey("another-key-" + "z" * 50)  # the token was stored under the fixture's key
    record_event(category="alert", user=user, message="SBIN crossed 800")
    outcome = delivery.deliver(user_id=user.pk, channel="telegram", now=timezone.now())
    assert "cannot be decrypted" in outcome.error
    assert Notification.objects.get(channel="telegram").state == "failed"
    assert SystemEvent.objects.filter(message__contains="cannot be decrypted").exists()
    assert telegram.state.sent == []
