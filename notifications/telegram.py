"""A small Telegram Bot API client (requests): sendMessage and getUpdates.

The token travels in the URL path (`/bot<token>/method`): no URL of a request is
ever logged from here, and errors carry the method name only (the log scrubber
masks `/bot<token>/` too, for whatever else logs a URL).
"""

from __future__ import annotations

from dataclasses import dataclass

import requests
from django.conf import settings

LIMIT = 4096  # characters per message


class TelegramError(Exception):
    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None):
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


class RateLimited(TelegramError):
    """429: wait `retry_after` seconds; the message was not sent."""


class Unavailable(TelegramError):
    """5xx or no answer in time."""


class Refused(TelegramError):
    """4xx other than 429 (a chat that blocked the bot, a bad token): retrying won't help."""

    retryable = False


@dataclass(frozen=True)
class Update:
    update_id: int
    chat_id: str
    text: str


def _call(token: str, method: str, payload: dict, *, timeout: float | None = None) -> dict:
    if not token:
        raise Refused("No Telegram bot token is set (manage.py telegram_bot --set-token).")
    url = f"{settings.TELEGRAM_API_ROOT.rstrip('/')}/bot{token}/{method}"
    try:
        response = requests.post(url, json=payload, timeout=timeout or settings.TELEGRAM_TIMEOUT)
    except requests.Timeout:
        raise Unavailable(f"Telegram {method}: no answer in time") from None
    except requests.RequestException as exc:
        raise Unavailable(f"Telegram {method}: {type(exc).__name__}") from None
    try:
        body = response.json()
    except ValueError:
        body = {}
    description = str(body.get("description") or f"HTTP {response.status_code}")[:300]
    if response.status_code == 429:
        retry_after = (body.get("parameters") or {}).get("retry_after") or 1
        raise RateLimited(f"Telegram {method}: {description}", retry_after=float(retry_after))
    if response.status_code >= 500:
        raise Unavailable(f"Telegram {method}: {description}")
    if response.status_code >= 400 or not body.get("ok"):
        raise Refused(f"Telegram {method}: {description}")
    return body


def send_message(*, token: str, chat_id: str, text: str) -> int:
    """Send one HTML-formatted message; returns Telegram's message id."""
    body = _call(
        token,
        "sendMessage",
        {
            "chat_id": chat_id,
            "text": text[:LIMIT],
            "parse_mode": "HTML",
            "disable_web_page_preview": True,
        },
    )
    return int((body.get("result") or {}).get("message_id") or 0)


def get_updates(*, token: str, offset: int) -> list[Update]:
    body = _call(
        token, "getUpdates", {"offset": offset, "timeout": 0, "allowed_updates": ["message"]}
    )
    updates = []
    for row in body.get("result") or []:
        message = row.get("message") or {}
        chat = message.get("chat") or {}
        updates.append(
            Update(
                update_id=int(row.get("update_id") or 0),
                chat_id=str(chat.get("id") or ""),
                text=str(message.get("text") or ""),
            )
        )
    return updates
