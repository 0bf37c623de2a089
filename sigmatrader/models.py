import secrets
import time
from base64 import b32encode
from binascii import unhexlify
from urllib.parse import quote, urlencode

from django.conf import settings
from django.db import models
from django.utils import timezone
from django_otp.models import Device, ThrottlingMixin, TimestampMixin
from django_otp.oath import TOTP

from .crypto import EncryptedJSONBlobField


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
        ALERT = "alert", "Alert"

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


class AuthenticatorDevice(TimestampMixin, ThrottlingMixin, Device):
    """A user's authenticator app for two-factor sign-in to SigmaTrader.

    django-otp's TOTP (RFC 6238: 30 s steps, 6 digits, one step of tolerance, a
    code never accepted twice, failures slowed down by ThrottlingMixin), with the
    key encrypted at rest like broker credentials (django-otp's own TOTPDevice
    keeps it in clear)."""

    STEP, DIGITS, TOLERANCE = 30, 6, 1

    secret = EncryptedJSONBlobField(default=dict)  # {"key": "<hex>"}
    last_t = models.BigIntegerField(default=-1)
    drift = models.SmallIntegerField(default=0)

    class Meta(Device.Meta):
        verbose_name = "authenticator app"

    digits = DIGITS

    @classmethod
    def new_secret(cls) -> dict:
        return {"key": secrets.token_hex(20)}

    @property
    def bin_key(self) -> bytes:
        return unhexlify(self.secret["key"].encode("ascii"))

    @property
    def base32_secret(self) -> str:
        return b32encode(self.bin_key).decode("ascii").rstrip("=")

    @property
    def config_url(self) -> str:
        issuer = getattr(settings, "OTP_TOTP_ISSUER", "SigmaTrader").replace(":", "")
        label = quote(f"{issuer}:{self.user.get_username()}")
        query = urlencode(
            {"secret": self.base32_secret, "digits": self.DIGITS, "period": self.STEP}
        )
        return f"otpauth://totp/{label}?{query}&issuer={quote(issuer)}"

    def verify_token(self, token) -> bool:
        allowed, _ = self.verify_is_allowed()
        if not allowed:
            return False
        try:
            token = int(token)
        except (TypeError, ValueError):
            verified = False
        else:
            totp = TOTP(self.bin_key, self.STEP, 0, self.DIGITS, self.drift)
            totp.time = time.time()
            verified = totp.verify(token, self.TOLERANCE, self.last_t + 1)
            if verified:
                self.last_t, self.drift = totp.t(), totp.drift
                self.throttle_reset(commit=False)
                self.set_last_used_timestamp(commit=False)
                self.save()
        if not verified:
            self.throttle_increment(commit=True)
        return verified

    def get_throttle_factor(self):
        return getattr(settings, "OTP_TOTP_THROTTLE_FACTOR", 1)
