"""Linking a Telegram chat: the user sends `/start <one-time code>` to the bot."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from notifications import services
from notifications.models import Preferences

CHAT = 55501


def test_start_with_the_code_links_the_chat_once(user, telegram):
    code = services.telegram_link_start(user=user)
    telegram.state.add_message(chat_id=CHAT, text=f"/start {code}")
    result = services.poll_telegram()
    assert result["linked"] == 1
    prefs = Preferences.objects.get(user=user)
    assert prefs.telegram_chat_id == str(CHAT) and prefs.telegram_enabled
    assert prefs.telegram_link_hash == ""  # the code is used up
    (reply,) = telegram.state.messages_to(CHAT)
    assert "Linked" in reply.text
    # The same update is not read twice, and the code does not work again.
    assert services.poll_telegram()["updates"] == 0
    telegram.state.add_message(chat_id=CHAT + 1, text=f"/start {code}")
    assert services.poll_telegram()["refused"] == 1
    assert Preferences.objects.get(user=user).telegram_chat_id == str(CHAT)


def test_a_wrong_code_links_nothing_and_says_so(user, telegram):
    services.telegram_link_start(user=user)
    telegram.state.add_message(chat_id=CHAT, text="/start WRONG123")
    telegram.state.add_message(chat_id=CHAT, text="/start")
    telegram.state.add_message(chat_id=CHAT, text="hello")
    result = services.poll_telegram()
    assert result == {"updates": 3, "linked": 0, "refused": 2}
    assert Preferences.objects.get(user=user).telegram_chat_id == ""
    replies = telegram.state.messages_to(CHAT)
    assert len(replies) == 2 and all("wrong or has expired" in r.text for r in replies)


def test_an_expired_code_links_nothing(user, telegram, settings):
    code = services.telegram_link_start(user=user)
    later = timezone.now() + timedelta(minutes=settings.NOTIFICATIONS_LINK_MINUTES + 1)
    telegram.state.add_message(chat_id=CHAT, text=f"/start {code}")
    assert services.poll_telegram(now=later)["refused"] == 1
    assert Preferences.objects.get(user=user).telegram_chat_id == ""


def test_a_code_is_the_users_own(user, other_user, telegram):
    mine = services.telegram_link_start(user=user)
    services.telegram_link_start(user=other_user)
    telegram.state.add_message(chat_id=CHAT, text=f"/start {mine.lower()}")
    services.poll_telegram()
    assert Preferences.objects.get(user=user).telegram_chat_id == str(CHAT)
    assert Preferences.objects.get(user=other_user).telegram_chat_id == ""


def test_no_bot_no_polling(db, settings):
    assert services.poll_telegram() == {"skipped": "no bot"}
