"""Audit events about one broker account."""

from __future__ import annotations

from sigmatrader.events import record_event
from sigmatrader.models import SystemEvent

from .models import BrokerAccount


def account_event(
    account: BrokerAccount,
    message: str,
    *,
    category: str = SystemEvent.Category.BROKER,
    level: str = SystemEvent.Level.INFO,
    **details,
) -> SystemEvent:
    """Record `message` for the account's owner, with the account's id in the details
    (the Activity page and the admin filter on it)."""
    return record_event(
        category=category,
        level=level,
        message=message,
        user=account.user,
        details={"account_id": account.pk, **details},
    )
