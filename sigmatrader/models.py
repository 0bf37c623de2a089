from django.conf import settings
from django.db import models
from django.utils import timezone


class SystemEvent(models.Model):
    """One line of the audit trail. Write through `sigmatrader.events.record_event`."""

    class Level(models.TextChoices):
        DEBUG = "debug", "Debug"
        INFO = "info", "Info"
        WARNING = "warning", "Warning"
        ERROR = "error", "Error"
        CRITICAL = "critical", "Critical"

    class Category(models.TextChoices):
        SYSTEM = "system", "System"
        SECURITY = "security", "Security"
        BROKER = "broker", "Broker"
        MARKETDATA = "marketdata", "Market data"
        ORDER = "order", "Order"
        WEBHOOK = "webhook", "Webhook"
        SYNC = "sync", "Sync"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        # An audit trail outlives the account it talks about.
        on_delete=models.SET_NULL,
        related_name="system_events",
    )
    level = models.CharField(max_length=10, choices=Level.choices, default=Level.INFO)
    category = models.CharField(max_length=20, choices=Category.choices)
    message = models.TextField()
    details = models.JSONField(default=dict, blank=True)
    correlation_id = models.CharField(max_length=64, blank=True, db_index=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="event_user_recent"),
            models.Index(fields=["category", "level"], name="event_category_level"),
        ]

    def __str__(self):
        return f"[{self.level}] {self.category}: {self.message[:80]}"


class SiteSetup(models.Model):
    """A single row written when the first-run form creates the first account.

    Its fixed primary key makes two racing first-run submissions collide on
    the database instead of both creating a superuser.
    """

    SINGLETON_ID = 1

    id = models.PositiveSmallIntegerField(primary_key=True, default=SINGLETON_ID)
    completed_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"Set up at {self.completed_at:%Y-%m-%d %H:%M}"
