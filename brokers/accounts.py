"""Writes on broker accounts: create, edit credentials, default, delete, status.

Every function takes the acting user and only touches that user's accounts;
views fetch accounts through `selectors.account_for`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from sigmatrader.crypto import UnreadableSecret
from sigmatrader.events import record_event
from sigmatrader.models import SystemEvent

from . import registry, signals
from .base import Session
from .events import account_event
from .models import UNREADABLE_MESSAGE, BrokerAccount

if TYPE_CHECKING:
    from django.contrib.auth.models import User

Status = BrokerAccount.Status


def _clean_credentials(broker: str, values: Mapping[str, str]) -> dict[str, str]:
    """Keep only the fields the adapter declares for storage, stripped."""
    adapter = registry.get_adapter_class(broker)
    stored = {f.name for f in adapter.credential_fields if not f.per_connect}
    return {k: str(v).strip() for k, v in values.items() if k in stored and v not in (None, "")}


@transaction.atomic
def create_account(
    *, user: User, broker: str, label: str, credentials: Mapping[str, str]
) -> BrokerAccount:
    registry.get_adapter_class(broker)  # raises UnknownBroker
    is_first = not BrokerAccount.objects.filter(user=user).exists()
    account = BrokerAccount.objects.create(
        user=user,
        broker=broker,
        label=label.strip(),
        credentials=_clean_credentials(broker, credentials),
        is_default=is_first,
    )
    record_event(
        category=SystemEvent.Category.BROKER,
        message=f"Account {account.display_name} added",
        user=user,
        details={"account_id": account.pk, "broker": broker},
    )
    return account


@transaction.atomic
def update_credentials(
    *, account: BrokerAccount, label: str, credentials: Mapping[str, str]
) -> BrokerAccount:
    """Replace the values the user typed; a blank field keeps what is stored."""
    account = BrokerAccount.objects.select_for_update().get(pk=account.pk)
    # Unreadable stored values are replaced by what the user types now.
    unreadable = account.secrets_unreadable or account.last_error == UNREADABLE_MESSAGE
    if isinstance(account.credentials, UnreadableSecret):
        merged = {}
    else:
        merged = dict(account.credentials or {})
    if unreadable:
        account.session = {}
        account.status, account.last_error = Status.NOT_CONNECTED, ""
    merged.update(_clean_credentials(account.broker, credentials))
    account.credentials = merged
    account.label = label.strip()
    account.save(
        update_fields=["credentials", "session", "status", "last_error", "label", "updated_at"]
    )
    account_event(
        account,
        f"Account {account.display_name}: settings changed",
        fields=sorted(credentials),
    )
    return account


@transaction.atomic
def forget_credential(*, account: BrokerAccount, name: str) -> None:
    account = BrokerAccount.objects.select_for_update().get(pk=account.pk)
    if isinstance(account.credentials, UnreadableSecret):
        return
    credentials = dict(account.credentials or {})
    if credentials.pop(name, None) is not None:
        account.credentials = credentials
        account.save(update_fields=["credentials", "updated_at"])


@transaction.atomic
def make_default(*, account: BrokerAccount) -> None:
    # Clear first: the partial unique index allows one default per user.
    BrokerAccount.objects.filter(user=account.user, is_default=True).exclude(pk=account.pk).update(
        is_default=False
    )
    BrokerAccount.objects.filter(pk=account.pk).update(is_default=True)
    account.is_default = True
    # .update() sends no post_save: tell the cached webhook routes (orders/webhook_routes.py).
    signals.default_account_changed.send(sender=BrokerAccount, account=account)


@transaction.atomic
def delete_account(*, account: BrokerAccount) -> None:
    user, was_default, name = account.user, account.is_default, account.display_name
    account.delete()
    if was_default:
        successor = BrokerAccount.objects.filter(user=user).order_by("id").first()
        if successor:
            make_default(account=successor)
    record_event(category=SystemEvent.Category.BROKER, message=f"Account {name} deleted", user=user)


def store_session(*, account: BrokerAccount, session: Session, event: str) -> None:
    account.session = dict(session.data)
    account.session_expires_at = session.expires_at
    account.status = Status.CONNECTED
    account.last_error = ""
    account.last_checked_at = timezone.now()
    if session.broker_user_id:
        account.broker_user_id = session.broker_user_id
    fields = ["session", "session_expires_at", "status", "last_error", "last_checked_at"]
    if event == "connected":
        account.connected_at = timezone.now()
        fields.append("connected_at")
    account.save(update_fields=[*fields, "broker_user_id", "updated_at"])
    if event == "connected":
        transaction.on_commit(
            lambda: signals.account_connected.send(sender=BrokerAccount, account=account)
        )
    account_event(
        account,
        f"Account {account.display_name}: session {event}",
        expires_at=session.expires_at,
    )


def mark_expired(*, account: BrokerAccount, reason: str) -> None:
    """The session is gone: wipe it, say so on the account and in the events.

    An account the user disconnected stays disconnected: a call that meets its
    missing session (a paper price check, a page) must not turn it into an
    "expired" one, which the session refresh would log back in.
    """
    now = timezone.now()
    changed = (
        BrokerAccount.objects.filter(pk=account.pk)
        .exclude(status=Status.NOT_CONNECTED)
        .update(
            session={},
            status=Status.EXPIRED,
            last_error=reason[:500],
            last_checked_at=now,
            updated_at=now,
        )
    )
    if not changed:
        account.refresh_from_db(fields=["session", "status", "last_error", "last_checked_at"])
        return
    account.session = {}
    account.status = Status.EXPIRED
    account.last_error = reason[:500]
    account.last_checked_at = now
    account_event(
        account,
        f"Account {account.display_name}: session expired — reconnect ({reason})",
        level=SystemEvent.Level.WARNING,
    )


def record_refresh_failure(*, account: BrokerAccount, reason: str) -> None:
    """A refresh did not work; the session may still be usable until it ends."""
    account_event(
        account,
        f"Account {account.display_name}: session refresh failed ({reason})",
        level=SystemEvent.Level.WARNING,
    )


def mark_error(*, account: BrokerAccount, reason: str) -> None:
    account.status = Status.ERROR
    account.last_error = reason[:500]
    account.last_checked_at = timezone.now()
    account.save(update_fields=["status", "last_error", "last_checked_at", "updated_at"])
    account_event(
        account,
        f"Account {account.display_name}: {reason}",
        level=SystemEvent.Level.ERROR,
    )


def mark_unreadable(*, account: BrokerAccount) -> None:
    """No key opens the account's stored secrets: say so on it, once (an event)."""
    if account.status == Status.ERROR and account.last_error == UNREADABLE_MESSAGE:
        return
    mark_error(account=account, reason=UNREADABLE_MESSAGE)


@transaction.atomic
def reset_secrets(*, account: BrokerAccount, actor: str) -> None:
    """Clear credentials and session (an operator's way out for an unreadable row);
    the owner enters the credentials again and reconnects."""
    account = BrokerAccount.objects.select_for_update().get(pk=account.pk)
    account.credentials, account.session = {}, {}
    account.session_expires_at = None
    account.status = Status.NOT_CONNECTED
    account.last_error = "Stored credentials were cleared: enter them again and reconnect."
    account.save(
        update_fields=[
            "credentials",
            "session",
            "session_expires_at",
            "status",
            "last_error",
            "updated_at",
        ]
    )
    account_event(
        account,
        f"Account {account.display_name}: stored credentials and session cleared by {actor}",
        category=SystemEvent.Category.SECURITY,
        level=SystemEvent.Level.WARNING,
    )


def disconnect_locally(*, account: BrokerAccount) -> None:
    account.session = {}
    account.session_expires_at = None
    account.status = Status.NOT_CONNECTED
    account.last_error = ""
    account.save(
        update_fields=["session", "session_expires_at", "status", "last_error", "updated_at"]
    )
    account_event(
        account,
        f"Account {account.display_name} disconnected",
    )
