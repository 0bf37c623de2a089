from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from sigmatrader.crypto import EncryptedJSONBlobField, UnreadableSecret

from . import registry
from .base import ConnectFlow
from .registry import UnknownBroker

UNREADABLE_MESSAGE = (
    "This account's stored credentials cannot be read: reconnect it "
    "(enter its credentials again), or delete it."
)


class BrokerAccount(models.Model):
    """One connection of a user to one broker account.

    `credentials` (API keys, secrets, optional PIN/TOTP secret) and `session`
    (access/refresh tokens) are encrypted JSON documents; everything else is
    plain so that lists, filters and the admin never need to decrypt.
    """

    class Status(models.TextChoices):
        NOT_CONNECTED = "not_connected", "Not connected"
        CONNECTED = "connected", "Connected"
        EXPIRED = "expired", "Expired"
        ERROR = "error", "Error"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="broker_accounts"
    )
    # A registry name; not a DB choice list, so adding a broker needs no migration.
    broker = models.CharField(max_length=32, db_index=True)
    label = models.CharField(max_length=60)
    credentials = EncryptedJSONBlobField(default=dict, blank=True)
    session = EncryptedJSONBlobField(default=dict, blank=True)
    session_expires_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.NOT_CONNECTED, db_index=True
    )
    broker_user_id = models.CharField(
        max_length=64, blank=True, help_text="The account's id at the broker (not a secret)."
    )
    last_error = models.TextField(blank=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    connected_at = models.DateTimeField(null=True, blank=True)
    is_default = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-is_default", "label", "id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "label"], name="account_label_unique_per_user"),
            models.UniqueConstraint(
                fields=["user"], condition=Q(is_default=True), name="one_default_account_per_user"
            ),
        ]

    def __str__(self):
        return self.display_name

    @property
    def adapter_class(self):
        return registry.get_adapter_class(self.broker)

    @property
    def broker_label(self) -> str:
        try:
            return registry.get_adapter_class(self.broker).label
        except registry.UnknownBroker:
            return self.broker

    @property
    def display_name(self) -> str:
        """ "Zerodha · main": what the top bar, pages and orders call the account."""
        return f"{self.broker_label} · {self.label}"

    @property
    def is_connected(self) -> bool:
        return self.status == self.Status.CONNECTED

    @property
    def secrets_unreadable(self) -> bool:
        """No configured key opens the stored credentials or session."""
        return isinstance(self.credentials, UnreadableSecret) or isinstance(
            self.session, UnreadableSecret
        )

    @property
    def secrets_problem(self) -> str:
        return UNREADABLE_MESSAGE if self.secrets_unreadable else ""

    @property
    def status_note(self) -> str:
        if self.secrets_unreadable:
            return ""  # secrets_problem says it
        try:
            return self.adapter_class.status_note(self)
        except UnknownBroker:
            return ""

    @property
    def connects_in_one_click(self) -> bool:
        """Nothing to type on connect (no login, or PIN + TOTP secret stored)."""
        if self.secrets_unreadable:
            return False  # connect leads to re-entering the credentials
        try:
            flow = self.adapter_class.connect_flow
        except UnknownBroker:
            return False
        return flow is ConnectFlow.NONE or can_reconnect_unattended(self)

    def stored_credential_names(self) -> set[str]:
        if isinstance(self.credentials, UnreadableSecret):
            return set()
        return {k for k, v in (self.credentials or {}).items() if v not in (None, "")}


def can_reconnect_unattended(account: BrokerAccount) -> bool:
    """True when the stored credentials alone can log in (e.g. PIN + TOTP secret)."""
    adapter = account.adapter_class
    if adapter.connect_flow is not ConnectFlow.CREDENTIALS_TOTP:
        return False
    stored = account.stored_credential_names()
    return all(
        f.unless_stored and f.unless_stored in stored
        for f in adapter.credential_fields
        if f.per_connect
    )
