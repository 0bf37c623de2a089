"""Reads, scoped to the user."""

from __future__ import annotations

from dataclasses import dataclass

from .models import Preferences, TelegramBot


def preferences_for(*, user) -> Preferences:
    """The user's preferences (unsaved defaults if they never saved any)."""
    return Preferences.objects.filter(user=user).first() or Preferences(user=user)


@dataclass(frozen=True)
class BotStatus:
    configured: bool
    username: str


def bot_status() -> BotStatus:
    bot = TelegramBot.objects.filter(pk=TelegramBot.SINGLETON_ID).first()
    try:
        configured = bool(bot and bot.token)
    except Exception:  # an undecryptable token: not usable, said as "not set up"
        configured = False
    return BotStatus(configured=configured, username=bot.username if bot else "")
