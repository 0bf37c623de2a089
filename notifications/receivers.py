"""Listening to what the apps record (connected in NotificationsConfig.ready).

Each receiver runs inside the transaction that wrote the record, so the outbox
row commits (or rolls back) with it. A receiver never raises: its writes run in
a savepoint and any error is logged, so a notification can never undo an order's
state change or an event.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models import Q

from brokers.models import BrokerAccount

from . import classify
from .models import Preferences
from .services import notify

logger = logging.getLogger(__name__)


def _safely(make_causes, what: str) -> None:
    try:
        with transaction.atomic():  # a savepoint inside the caller's transaction
            notify(make_causes())
    except Exception:
        logger.exception("notifications: could not write the outbox for %s", what)


def on_order_event(sender, instance, created, raw=False, **kwargs):
    if created and not raw and classify.may_notify(instance):
        _safely(lambda: [c for c in [classify.from_order_event(instance)] if c], "an order event")


def on_order_events_written(sender, events, **kwargs):
    """Sync writes its transitions with bulk_create (no post_save): it says so here.
    A 1,000-order sync costs one query when nobody listens, a few when someone does."""
    candidates = [event for event in events if event.pk and classify.may_notify(event)]
    if not candidates:
        return

    def causes():
        listening = listeners({event.order.user_id for event in candidates})
        mine = [event for event in candidates if event.order.user_id in listening]
        accounts = BrokerAccount.objects.in_bulk(
            {event.order.account_id for event in mine if event.order.account_id}
        )
        found = []
        for event in mine:
            order = event.order
            if order.account_id in accounts:
                order.account = accounts[order.account_id]
            cause = classify.from_order_event(event)
            if cause:
                found.append(cause)
        return found

    _safely(causes, "synced order events")


def listeners(user_ids: set[int]) -> set[int]:
    """Of `user_ids`, those with a channel switched on."""
    return set(
        Preferences.objects.filter(user_id__in=user_ids)
        .filter(Q(email_enabled=True) | Q(telegram_enabled=True))
        .values_list("user_id", flat=True)
    )


def on_system_event(sender, instance, created, raw=False, **kwargs):
    if created and not raw:
        _safely(lambda: classify.from_system_event(instance), "a system event")


def on_webhook_alert(sender, instance, created, raw=False, **kwargs):
    if created and not raw:
        _safely(lambda: [c for c in [classify.from_webhook_alert(instance)] if c], "a webhook")
