"""Listening to what the apps record (connected in NotificationsConfig.ready).

Each receiver runs inside the transaction that wrote the record, so the outbox
row commits (or rolls back) with it. A receiver never raises: its writes run in
a savepoint and any error is logged, so a notification can never undo an order's
state change or an event.
"""

from __future__ import annotations

import logging

from django.db import transaction

from . import classify
from .services import notify

logger = logging.getLogger(__name__)


def _safely(make_causes, what: str) -> None:
    try:
        with transaction.atomic():  # a savepoint inside the caller's transaction
            notify(make_causes())
    except Exception:
        logger.exception("notifications: could not write the outbox for %s", what)


def on_order_event(sender, instance, created, raw=False, **kwargs):
    if created and not raw:
        _safely(lambda: [c for c in [classify.from_order_event(instance)] if c], "an order event")


def on_order_events_written(sender, events, **kwargs):
    """Sync writes its transitions with bulk_create (no post_save): it says so here."""

    def causes():
        found = []
        for event in events:
            if event.pk and (event.to_status or event.kind == "risk"):
                cause = classify.from_order_event(event)
                if cause:
                    found.append(cause)
        return found

    _safely(causes, "synced order events")


def on_system_event(sender, instance, created, raw=False, **kwargs):
    if created and not raw:
        _safely(lambda: classify.from_system_event(instance), "a system event")


def on_webhook_alert(sender, instance, created, raw=False, **kwargs):
    if created and not raw:
        _safely(lambda: [c for c in [classify.from_webhook_alert(instance)] if c], "a webhook")
