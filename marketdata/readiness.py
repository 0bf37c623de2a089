"""Instruments ready when an account connects, with progress for Settings.

`brokers` sends `account_connected`; `ensure_instruments` queues the broker's
refresh when its instruments are missing or stale. A refresh that loads rows
then looks again at the other connected brokers: one whose list is built from
another's (paper, from its price source's) fills once that one has loaded.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.core.cache import cache
from django.utils import timezone

from brokers import registry
from brokers.models import BrokerAccount
from sigmatrader.queueing import enqueue

from .models import Instrument, InstrumentRefresh

logger = logging.getLogger(__name__)

STALE_AFTER = timedelta(hours=24)
QUEUED_FOR = 300  # seconds a queued refresh counts as "loading" before its run starts
RUNNING_FOR = timedelta(minutes=30)  # a RUNNING run older than this is a crashed one


def _queued_key(broker: str) -> str:
    return f"marketdata:refresh-queued:{broker}"


def _progress_key(broker: str) -> str:
    return f"marketdata:refresh-progress:{broker}"


def is_missing(broker: str) -> bool:
    return not Instrument.objects.filter(broker=broker).exists()


def is_stale(broker: str) -> bool:
    last = (
        InstrumentRefresh.objects.filter(broker=broker, status=InstrumentRefresh.Status.SUCCEEDED)
        .order_by("-finished_at")
        .first()
    )
    return (
        last is None or last.finished_at is None or timezone.now() - last.finished_at > STALE_AFTER
    )


def is_queued_or_progressing(broker: str) -> bool:
    """What the cache knows (no query): a refresh queued, or one counting rows."""
    return bool(cache.get(_queued_key(broker))) or cache.get(_progress_key(broker)) is not None


def is_loading(broker: str) -> bool:
    if is_queued_or_progressing(broker):
        return True
    return InstrumentRefresh.objects.filter(
        broker=broker,
        status=InstrumentRefresh.Status.RUNNING,
        started_at__gte=timezone.now() - RUNNING_FOR,
    ).exists()


def is_running(broker: str) -> bool:
    """A refresh has started and not finished: its list may be only partly in (a queued
    one that has not started leaves the loaded list as it was)."""
    if cache.get(_progress_key(broker)) is not None:
        return True
    return InstrumentRefresh.objects.filter(
        broker=broker,
        status=InstrumentRefresh.Status.RUNNING,
        started_at__gte=timezone.now() - RUNNING_FOR,
    ).exists()


def queue_refresh(broker: str, *, attempts: int = 0, countdown: float = 0) -> bool:
    """Queue one refresh of `broker` unless one is queued or running. True if queued.
    `attempts`: how many more times a failed run is tried again."""
    if not countdown and is_loading(broker):
        return False
    if not cache.add(_queued_key(broker), True, QUEUED_FOR):
        return False
    try:
        enqueue("marketdata.refresh_instruments_for", broker, attempts, countdown=countdown or None)
    except Exception:
        cache.delete(_queued_key(broker))  # not queued: do not show it as loading
        raise
    return True


def ensure_instruments(*, broker: str) -> bool:
    """Queue a refresh when `broker`'s instruments are missing or stale."""
    if is_missing(broker) or is_stale(broker):
        return queue_refresh(broker, attempts=AUTOMATIC_ATTEMPTS)
    return False


AUTOMATIC_ATTEMPTS = 3


def started(broker: str) -> None:
    """The task picked it up: from now on the RUNNING run says "loading"."""
    cache.delete(_queued_key(broker))
    cache.set(_progress_key(broker), 0, QUEUED_FOR * 12)


def progressed(broker: str, rows: int) -> None:
    try:
        cache.incr(_progress_key(broker), rows)
    except ValueError:
        cache.set(_progress_key(broker), rows, QUEUED_FOR * 12)


def rows_so_far(broker: str) -> int:
    return int(cache.get(_progress_key(broker)) or 0)


def after_refresh(*, broker: str, rows: int) -> list[str]:
    """A refresh finished: queue the other connected brokers still without instruments."""
    cache.delete(_progress_key(broker))
    if not rows:
        return []
    connected = (
        BrokerAccount.objects.filter(status=BrokerAccount.Status.CONNECTED)
        .exclude(broker=broker)
        .values_list("broker", flat=True)
        .distinct()
    )
    names = {a.name for a in registry.all_adapters()}
    return [
        name for name in connected if name in names and is_missing(name) and queue_refresh(name)
    ]


def on_account_connected(sender, account, **kwargs) -> None:
    try:
        ensure_instruments(broker=account.broker)
    except Exception:  # never let a connect fail over the instrument list
        logger.exception("could not queue instruments for %s", account.broker)
