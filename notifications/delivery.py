"""Delivering the outbox: one run per user and channel claims the due rows, folds
a burst into one digest, sends it, and marks the rows sent.

- A row is claimed (PENDING → SENDING, one UPDATE) before it is sent, so two runs
  (a redelivered task, the sweep) never send it twice; a row stays SENT for ever.
- Telegram's 429 (with retry_after), a 5xx, no answer in time or an SMTP error
  put the rows back to PENDING, due after the wait (retry_after, or a doubling
  backoff); after NOTIFICATIONS_MAX_ATTEMPTS they are FAILED and the failure is
  an event of its own. Nothing here touches an order.
- One message per chat per second at most (Telegram's per-chat limit); a burst
  waits NOTIFICATIONS_DIGEST_SECONDS of quiet (at most ..._DIGEST_MAX_WAIT) and
  goes out as one digest (a 50-order basket is one message).
"""

from __future__ import annotations

import html
import logging
import secrets
import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.mail import send_mail
from django.db.models import F
from django.utils import timezone

from sigmatrader.counters import hit
from sigmatrader.crypto import UndecryptableSecret
from sigmatrader.events import record_event
from sigmatrader.models import SystemEvent

from . import telegram
from .classify import DELIVERY_MARK
from .models import Channel, Notification, Preferences, TelegramBot

logger = logging.getLogger(__name__)
State = Notification.State
DIGEST_LINES = 60  # beyond these a digest says how many more


@dataclass
class Outcome:
    sent: int = 0
    later: float | None = None  # seconds until the next run should look again
    error: str = ""


def deliver(*, user_id: int, channel: str, now: datetime | None = None) -> Outcome:
    now = now or timezone.now()
    prefs = Preferences.objects.select_related("user").filter(user_id=user_id).first()
    due = Notification.objects.filter(
        user_id=user_id, channel=channel, state=State.PENDING, due_at__lte=now
    )
    if prefs is None or not prefs.enabled_for(channel):
        due.update(state=State.DROPPED, last_error="The channel was switched off.")
        return Outcome()
    rows = list(due.order_by("id"))
    if not rows:
        upcoming = (
            Notification.objects.filter(user_id=user_id, channel=channel, state=State.PENDING)
            .order_by("due_at")
            .values_list("due_at", flat=True)
            .first()
        )
        return Outcome(later=(upcoming - now).total_seconds() if upcoming else None)
    gap = settings.NOTIFICATIONS_DIGEST_SECONDS
    newest = max(row.created_at for row in rows)
    oldest = min(row.due_at for row in rows)
    quiet_for = (now - newest).total_seconds()
    waited = (now - oldest).total_seconds()
    if quiet_for < gap and waited < settings.NOTIFICATIONS_DIGEST_MAX_WAIT:
        return Outcome(later=gap - quiet_for)  # a burst is still coming: fold it
    return deliver_rows(prefs=prefs, channel=channel, rows=rows, now=now)


def deliver_rows(
    *, prefs: Preferences, channel: str, rows: list[Notification], now: datetime, force=False
) -> Outcome:
    """Claim `rows`, send them as one message, record the outcome."""
    address = prefs.address_for(channel)
    if channel == Channel.TELEGRAM and not force and not _chat_slot(address, now):
        return Outcome(later=1.0)
    batch = secrets.token_hex(8)
    claimed = Notification.objects.filter(
        pk__in=[row.pk for row in rows], state=State.PENDING
    ).update(state=State.SENDING, claimed_at=now, batch=batch, attempts=F("attempts") + 1)
    if not claimed:
        return Outcome()  # another run has them
    mine = list(Notification.objects.filter(batch=batch).order_by("id"))
    subject, text = compose(mine)
    try:
        if channel == Channel.EMAIL:
            _send_email(address=address, subject=subject, text=text)
        else:
            _send_telegram(chat_id=address, text=telegram_text(mine))
    except telegram.TelegramError as exc:
        return _failed(prefs, mine, batch, exc.message, exc.retryable, exc.retry_after, now)
    except (smtplib.SMTPException, OSError) as exc:
        return _failed(prefs, mine, batch, f"E-mail: {type(exc).__name__}", True, None, now)
    except Exception as exc:  # anything else: retried like an outage, and logged
        logger.exception("notification delivery failed unexpectedly")
        return _failed(prefs, mine, batch, f"Unexpected {type(exc).__name__}", True, None, now)
    Notification.objects.filter(batch=batch, state=State.SENDING).update(
        state=State.SENT, sent_at=timezone.now(), last_error=""
    )
    return Outcome(sent=len(mine))


def _chat_slot(chat_id: str, now: datetime) -> bool:
    """At most one message per chat per second (Telegram's limit per chat), and at
    most TELEGRAM_MESSAGES_PER_SECOND for the whole bot (Telegram's is about 30)."""
    second = int(now.timestamp())
    if not cache.add(f"notifications:chat:{chat_id}:{second}", 1, 2):
        return False
    return hit(f"notifications:bot:{second}", 2) <= settings.TELEGRAM_MESSAGES_PER_SECOND


def _failed(prefs, rows, batch, error, retryable, retry_after, now) -> Outcome:
    attempts = max(row.attempts for row in rows)
    if retryable and attempts < settings.NOTIFICATIONS_MAX_ATTEMPTS:
        wait = max(retry_after or 0.0, settings.NOTIFICATIONS_BACKOFF * 2 ** (attempts - 1))
        Notification.objects.filter(batch=batch, state=State.SENDING).update(
            state=State.PENDING,
            batch="",
            claimed_at=None,
            due_at=now + timedelta(seconds=wait),
            last_error=error[:500],
        )
        logger.info("notification delivery deferred %.1f s: %s", wait, error)
        return Outcome(later=wait, error=error)
    Notification.objects.filter(batch=batch, state=State.SENDING).update(
        state=State.FAILED, last_error=error[:500]
    )
    channel = Channel(rows[0].channel).label
    record_event(
        category=SystemEvent.Category.SYSTEM,
        level=SystemEvent.Level.WARNING,
        user=get_user_model().objects.filter(pk=prefs.user_id).first(),
        message=f"{channel} notification not delivered after {attempts} attempt(s): {error}",
        details={DELIVERY_MARK: True, "notifications": [row.pk for row in rows][:50]},
    )
    return Outcome(error=error)


def compose(rows: list[Notification]) -> tuple[str, str]:
    """(subject, plain text): one message, or a digest of several."""
    if len(rows) == 1:
        return rows[0].title, rows[0].body
    lines = [f"• {row.title}: {row.body}" for row in rows[:DIGEST_LINES]]
    if len(rows) > DIGEST_LINES:
        lines.append(f"… and {len(rows) - DIGEST_LINES} more (see Events in SigmaTrader).")
    return f"SigmaTrader: {len(rows)} updates", "\n".join(lines)


def telegram_text(rows: list[Notification]) -> str:
    """HTML for Telegram (every value escaped), within its 4,096-character limit."""
    if len(rows) == 1:
        title = f"<b>{clip(rows[0].title, 300)}</b>"
        return f"{title}\n{clip(rows[0].body, telegram.LIMIT - len(title) - 1)}"
    parts = [f"<b>SigmaTrader: {len(rows)} updates</b>"]
    parts += [f"• <b>{clip(r.title, 200)}</b>: {clip(r.body, DIGEST_LINE)}" for r in rows]
    return fit(parts)


DIGEST_LINE = 600  # characters of one message's text in a digest


def clip(raw: str, budget: int) -> str:
    """`raw` escaped for Telegram's HTML, cut (with "…") to at most `budget` characters;
    never cut inside an entity."""
    escaped = html.escape(raw, quote=False)
    if len(escaped) <= budget:
        return escaped
    keep = budget - 1
    while keep > 0 and len(html.escape(raw[:keep], quote=False)) > budget - 1:
        keep -= max(1, len(html.escape(raw[:keep], quote=False)) - (budget - 1))
    return html.escape(raw[: max(keep, 0)], quote=False) + "…"


def fit(parts: list[str], limit: int = telegram.LIMIT) -> str:
    """Join whole lines up to `limit` characters, saying how many were left out."""
    out, used = [], 0
    for index, part in enumerate(parts):
        tail = f"… and {len(parts) - index} more (see Events in SigmaTrader)."
        if used + len(part) + 1 + len(tail) + 1 > limit:
            out.append(tail)
            break
        out.append(part)
        used += len(part) + 1
    return "\n".join(out)


def _send_email(*, address: str, subject: str, text: str) -> None:
    send_mail(subject, text, settings.DEFAULT_FROM_EMAIL, [address], fail_silently=False)


def _send_telegram(*, chat_id: str, text: str) -> None:
    bot = TelegramBot.objects.filter(pk=TelegramBot.SINGLETON_ID).first()
    try:
        token = bot.token if bot else ""
    except UndecryptableSecret:
        raise telegram.Refused(
            "The Telegram bot token cannot be decrypted with the configured keys: "
            "set it again (manage.py telegram_bot --set-token)."
        ) from None
    telegram.send_message(token=token, chat_id=chat_id, text=text)
