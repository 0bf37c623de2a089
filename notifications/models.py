"""Channels and preferences per user, the outbox, and the deployment's Telegram bot."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import models
from django.utils import timezone

from sigmatrader.crypto import EncryptedJSONBlobField

from .kinds import DEFAULT_ON, Kind


def default_kinds() -> list[str]:
    return list(DEFAULT_ON)


class Channel(models.TextChoices):
    EMAIL = "email", "E-mail"
    TELEGRAM = "telegram", "Telegram"


class Preferences(models.Model):
    """One user's channels, the kinds each sends, and quiet hours (India time)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_prefs"
    )
    email_enabled = models.BooleanField(default=False)
    email_address = models.EmailField(blank=True)
    email_kinds = models.JSONField(default=default_kinds, blank=True)
    telegram_enabled = models.BooleanField(default=False)
    # Filled when the user sends /start <code> to the bot; not secret, but shown masked.
    telegram_chat_id = models.CharField(max_length=32, blank=True)
    telegram_kinds = models.JSONField(default=default_kinds, blank=True)
    # sha256 of the one-time /start code (the code itself is shown once).
    telegram_link_hash = models.CharField(max_length=64, blank=True, db_index=True)
    telegram_link_expires_at = models.DateTimeField(null=True, blank=True)
    quiet_start = models.TimeField(null=True, blank=True, help_text="India time")
    quiet_end = models.TimeField(null=True, blank=True, help_text="India time")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "notification preferences"

    def __str__(self):
        return f"Notification preferences of {self.user}"

    def kinds_for(self, channel: str) -> list[str]:
        return list(self.email_kinds if channel == Channel.EMAIL else self.telegram_kinds)

    def address_for(self, channel: str) -> str:
        if channel == Channel.EMAIL:
            return self.email_address or getattr(self.user, "email", "") or ""
        return self.telegram_chat_id

    def enabled_for(self, channel: str) -> bool:
        if channel == Channel.EMAIL:
            return self.email_enabled and bool(self.address_for(channel))
        return self.telegram_enabled and bool(self.telegram_chat_id)


def code_hash(code: str) -> str:
    return hashlib.sha256(code.strip().upper().encode("utf-8")).hexdigest()


class Notification(models.Model):
    """The outbox: one message to one channel, written in the transaction of the
    record that caused it, delivered (alone or folded into a digest) by a task."""

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        DROPPED = "dropped", "Dropped"  # the channel was switched off or unlinked since

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    channel = models.CharField(max_length=10, choices=Channel.choices)
    kind = models.CharField(max_length=24, choices=Kind.choices)
    title = models.CharField(max_length=200)
    body = models.TextField()
    # One row per (channel, cause): a cause seen twice (a receiver run twice, a
    # retried task) never makes a second message.
    dedup_key = models.CharField(max_length=120, unique=True)
    state = models.CharField(
        max_length=8, choices=State.choices, default=State.PENDING, db_index=True
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    # Not before (quiet hours, a retry's backoff, Telegram's retry_after).
    due_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    # Rows delivered together (one digest) share a batch id.
    batch = models.CharField(max_length=32, blank=True, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["user", "channel", "state", "due_at"], name="notif_outbox"),
        ]

    def __str__(self):
        return f"{self.channel} {self.kind} [{self.state}] {self.title[:40]}"


class TelegramBot(models.Model):
    """The deployment's bot (one row). The token is encrypted at rest like broker
    credentials and never rendered back; `manage.py telegram_bot` sets it."""

    SINGLETON_ID = 1

    id = models.PositiveSmallIntegerField(primary_key=True, default=SINGLETON_ID)
    secret = EncryptedJSONBlobField(default=dict, blank=True)  # {"token": "..."}
    username = models.CharField(max_length=64, blank=True)
    updates_offset = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"Telegram bot @{self.username or '?'}"

    @property
    def token(self) -> str:
        return str(self.secret.get("token", "")) if self.secret else ""
