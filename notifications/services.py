"""Writes: the outbox rows for what happened, preferences, linking a chat, tests.

`notify` is called by the receivers (notifications/receivers.py) inside the
transaction of the record that caused it, so the outbox row commits or rolls
back with that record; delivery is queued only once it has committed.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from sigmatrader.events import record_event
from sigmatrader.models import SystemEvent
from sigmatrader.queueing import enqueue

from .classify import Cause
from .kinds import CHOOSABLE, Kind
from .models import Channel, Notification, Preferences, TelegramBot, code_hash

logger = logging.getLogger(__name__)
IST = ZoneInfo("Asia/Kolkata")


def preferences_get(*, user) -> Preferences:
    prefs, _ = Preferences.objects.get_or_create(user=user)
    return prefs


def quiet_until(*, prefs: Preferences, now: datetime) -> datetime | None:
    """When quiet hours (India time) end, if `now` falls inside them; else None."""
    start, end = prefs.quiet_start, prefs.quiet_end
    if start is None or end is None or start == end:
        return None
    local = timezone.localtime(now, IST)
    clock = local.time()
    inside = start <= clock < end if start < end else (clock >= start or clock < end)
    if not inside:
        return None
    ends = local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    if ends <= local:
        ends += timedelta(days=1)
    return ends


def notify(causes: Iterable[Cause], *, now: datetime | None = None) -> list[Notification]:
    """Outbox rows for `causes`, one per channel each user turned the kind on for."""
    causes = list(causes)
    if not causes:
        return []
    now = now or timezone.now()
    prefs = {
        p.user_id: p
        for p in Preferences.objects.filter(
            user_id__in={cause.user_id for cause in causes}
        ).select_related("user")
    }
    rows = []
    for cause in causes:
        mine = prefs.get(cause.user_id)
        if mine is None:
            continue
        held = quiet_until(prefs=mine, now=now) if cause.kind != Kind.TEST else None
        for channel in Channel.values:
            if not mine.enabled_for(channel) or cause.kind not in mine.kinds_for(channel):
                continue
            rows.append(
                Notification(
                    user_id=cause.user_id,
                    channel=channel,
                    kind=cause.kind,
                    title=cause.title[:200],
                    body=cause.body,
                    dedup_key=f"{channel}:{cause.key}"[:120],
                    created_at=now,
                    due_at=held or now,
                )
            )
    if not rows:
        return []
    Notification.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)
    targets = {(row.user_id, row.channel, row.due_at) for row in rows}
    transaction.on_commit(lambda: _schedule_all(targets, now=now), robust=True)
    return rows


def _schedule_all(targets, *, now: datetime) -> None:
    for user_id, channel, due_at in targets:
        wait = max(0.0, (due_at - now).total_seconds())
        schedule(
            user_id=user_id, channel=channel, wait=wait + settings.NOTIFICATIONS_DIGEST_SECONDS
        )


def schedule(*, user_id: int, channel: str, wait: float) -> bool:
    """Queue one delivery run for a user's channel (at most one queued at a time;
    a lost one is re-queued by the sweep once its marker has expired)."""
    marker = f"notifications:queued:{user_id}:{channel}"
    if not cache.add(marker, 1, int(wait) + settings.NOTIFICATIONS_SCHEDULE_GRACE):
        return False
    try:
        enqueue("notifications.deliver", user_id, channel, countdown=max(0.0, wait))
    except Exception:  # the queue is down: the sweep delivers from the outbox later
        cache.delete(marker)
        logger.warning("could not queue notification delivery for user %s", user_id, exc_info=True)
        return False
    return True


def unschedule(*, user_id: int, channel: str) -> None:
    cache.delete(f"notifications:queued:{user_id}:{channel}")


def sweep_outbox(*, now: datetime | None = None) -> dict:
    """Beat: rows a lost worker left claimed go back to pending; every channel with
    due rows gets a delivery run queued (the outbox survives a worker kill)."""
    now = now or timezone.now()
    stale = now - timedelta(seconds=settings.NOTIFICATIONS_CLAIM_TIMEOUT)
    released = Notification.objects.filter(
        state=Notification.State.SENDING, claimed_at__lt=stale
    ).update(state=Notification.State.PENDING, batch="", claimed_at=None)
    due = set(
        Notification.objects.filter(state=Notification.State.PENDING, due_at__lte=now)
        .values_list("user_id", "channel")
        .distinct()
    )
    queued = sum(schedule(user_id=user_id, channel=channel, wait=0) for user_id, channel in due)
    # The outbox is not an archive: what was settled long ago goes (the events stay).
    old = now - timedelta(days=settings.NOTIFICATIONS_KEEP_DAYS)
    purged, _ = Notification.objects.filter(
        created_at__lt=old,
        state__in=[Notification.State.SENT, Notification.State.DROPPED, Notification.State.FAILED],
    ).delete()
    return {"released": released, "queued": queued, "purged": purged}


# --- Preferences -------------------------------------------------------------------


def preferences_update(
    *,
    user,
    email_enabled: bool,
    email_address: str,
    email_kinds: list[str],
    telegram_enabled: bool,
    telegram_kinds: list[str],
    quiet_start: time | None,
    quiet_end: time | None,
) -> Preferences:
    allowed = {kind.value for kind in CHOOSABLE}
    prefs = preferences_get(user=user)
    prefs.email_enabled = email_enabled
    prefs.email_address = email_address
    prefs.email_kinds = [kind for kind in email_kinds if kind in allowed]
    prefs.telegram_enabled = telegram_enabled and bool(prefs.telegram_chat_id)
    prefs.telegram_kinds = [kind for kind in telegram_kinds if kind in allowed]
    prefs.quiet_start, prefs.quiet_end = quiet_start, quiet_end
    prefs.save()
    return prefs


# --- Linking a Telegram chat -------------------------------------------------------


def telegram_link_start(*, user, now: datetime | None = None) -> str:
    """A one-time code the user sends to the bot as `/start <code>` (shown once)."""
    now = now or timezone.now()
    code = secrets.token_hex(4).upper()
    prefs = preferences_get(user=user)
    prefs.telegram_link_hash = code_hash(code)
    prefs.telegram_link_expires_at = now + timedelta(minutes=settings.NOTIFICATIONS_LINK_MINUTES)
    prefs.save(update_fields=["telegram_link_hash", "telegram_link_expires_at", "updated_at"])
    return code


def telegram_unlink(*, user) -> None:
    prefs = preferences_get(user=user)
    prefs.telegram_chat_id, prefs.telegram_enabled = "", False
    prefs.save(update_fields=["telegram_chat_id", "telegram_enabled", "updated_at"])
    record_event(
        category=SystemEvent.Category.SECURITY, user=user, message="Telegram chat unlinked"
    )


def telegram_link_finish(*, code: str, chat_id: str, now: datetime | None = None):
    """The chat that sent `/start <code>`: linked to the code's user, or None (a wrong
    or expired code). A code works once."""
    now = now or timezone.now()
    if not code or not chat_id:
        return None
    with transaction.atomic():
        prefs = (
            Preferences.objects.select_for_update()
            .filter(telegram_link_hash=code_hash(code), telegram_link_expires_at__gt=now)
            .select_related("user")
            .first()
        )
        if prefs is None:
            return None
        prefs.telegram_chat_id = str(chat_id)
        prefs.telegram_enabled = True
        prefs.telegram_link_hash = ""
        prefs.telegram_link_expires_at = None
        prefs.save()
        record_event(
            category=SystemEvent.Category.SECURITY,
            user=prefs.user,
            message="Telegram chat linked for notifications",
        )
    return prefs


def telegram_bot() -> TelegramBot | None:
    return TelegramBot.objects.filter(pk=TelegramBot.SINGLETON_ID).first()


def telegram_bot_set(*, token: str, username: str = "") -> TelegramBot:
    bot, _ = TelegramBot.objects.get_or_create(pk=TelegramBot.SINGLETON_ID)
    bot.secret = {"token": token.strip()}
    bot.username = username.strip().lstrip("@")
    bot.updates_offset = 0
    bot.save()
    record_event(category=SystemEvent.Category.SECURITY, message="Telegram bot token set")
    return bot


def poll_telegram(*, now: datetime | None = None) -> dict:
    """Beat: read the bot's new messages; `/start <code>` links a chat."""
    from . import telegram

    bot = telegram_bot()
    if bot is None or not bot.token:
        return {"skipped": "no bot"}
    updates = telegram.get_updates(token=bot.token, offset=bot.updates_offset)
    linked = refused = 0
    for update in updates:
        bot.updates_offset = max(bot.updates_offset, update.update_id + 1)
        words = update.text.strip().split()
        if not words or words[0].split("@")[0] != "/start":
            _command(bot.token, update)
            continue
        prefs = telegram_link_finish(
            code=words[1] if len(words) > 1 else "", chat_id=update.chat_id, now=now
        )
        if prefs is None:
            refused += 1
            reply = (
                "That code is wrong or has expired. Get a new one in SigmaTrader: "
                "Settings → Notifications → Link Telegram."
            )
        else:
            linked += 1
            reply = "Linked: SigmaTrader will send your notifications to this chat."
        try:
            telegram.send_message(token=bot.token, chat_id=update.chat_id, text=reply)
        except telegram.TelegramError as exc:
            logger.warning("could not answer a /start: %s", exc.message)
    TelegramBot.objects.filter(pk=bot.pk).update(updates_offset=bot.updates_offset)
    return {"updates": len(updates), "linked": linked, "refused": refused}


def _command(token: str, update) -> None:
    """A command from a chat (commands.py); its answer, if any, is sent at once."""
    from . import commands, telegram

    reply = commands.answer(chat_id=update.chat_id, text=update.text)
    if reply is None:
        return
    try:
        telegram.send_message(token=token, chat_id=update.chat_id, text=reply)
    except telegram.TelegramError as exc:
        logger.warning("could not answer a command: %s", exc.message)


# --- Send test -----------------------------------------------------------------------


def send_test(*, user, channel: str) -> str:
    """Write a test message through the outbox and deliver it now; "" or what went wrong."""
    from .delivery import deliver_rows

    prefs = preferences_get(user=user)
    if not prefs.address_for(channel):
        if channel == Channel.TELEGRAM:
            return "Link a Telegram chat first."
        return "Set an e-mail address first."
    now = timezone.now()
    row = Notification.objects.create(
        user=user,
        channel=channel,
        kind=Kind.TEST,
        title="SigmaTrader test message",
        body=f"Notifications reach you here. Sent {timezone.localtime(now, IST):%d %b %H:%M} IST.",
        dedup_key=f"{channel}:test:{secrets.token_hex(8)}",
        created_at=now,
        due_at=now,
    )
    outcome = deliver_rows(prefs=prefs, channel=channel, rows=[row], now=now, force=True)
    if outcome.error:  # a test is answered now or not at all: never retried later
        Notification.objects.filter(pk=row.pk).update(state=Notification.State.FAILED)
    return outcome.error
