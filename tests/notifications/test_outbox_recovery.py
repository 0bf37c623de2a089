"""The outbox survives a lost worker: rows whose task was lost, and rows a killed
worker had claimed, are delivered by the beat sweep, once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from notifications import services
from notifications.models import Notification
from orders.models import Order
from sigmatrader.celery import app

from .conftest import CHAT, deliver_all
from .helpers import account_of, move, order_of


@pytest.fixture
def eager():
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def test_the_sweep_delivers_rows_whose_task_was_lost(user, prefs, telegram, eager):
    move(order_of(account_of(user)), Order.Status.REJECTED, status_message="RMS")
    # The on-commit task never ran (test transaction): the rows wait in the outbox.
    assert Notification.objects.filter(state="pending").count() == 2
    result = services.sweep_outbox(now=timezone.now() + timedelta(seconds=5))
    assert result["queued"] == 2
    assert len(telegram.state.messages_to(CHAT)) == 1
    assert set(Notification.objects.values_list("state", flat=True)) == {"sent"}
    services.sweep_outbox(now=timezone.now() + timedelta(minutes=5))
    assert len(telegram.state.messages_to(CHAT)) == 1


def test_rows_a_killed_worker_had_claimed_go_out_after_the_claim_timeout(user, prefs, telegram):
    move(order_of(account_of(user)), Order.Status.REJECTED, status_message="RMS")
    Notification.objects.update(state="sending", claimed_at=timezone.now(), batch="dead")
    soon = timezone.now() + timedelta(seconds=10)
    assert services.sweep_outbox(now=soon)["released"] == 0  # maybe still sending
    late = timezone.now() + timedelta(seconds=settings.NOTIFICATIONS_CLAIM_TIMEOUT + 1)
    assert services.sweep_outbox(now=late)["released"] == 2
    assert deliver_all(at=late) == 2
    assert len(telegram.state.messages_to(CHAT)) == 1


def test_settled_rows_are_purged_after_the_keep_days(user, prefs, telegram, settings):
    move(order_of(account_of(user)), Order.Status.REJECTED, status_message="RMS")
    deliver_all()
    move(order_of(account_of(user, label="second")), Order.Status.REJECTED, status_message="x")
    later = timezone.now() + timedelta(days=settings.NOTIFICATIONS_KEEP_DAYS + 1)
    Notification.objects.filter(state="pending").update(due_at=later + timedelta(days=1))
    assert services.sweep_outbox(now=later)["purged"] == 2  # sent ones go, pending ones stay
    assert Notification.objects.filter(state="pending").count() == 2


def test_the_sweep_and_the_poll_are_scheduled(db):
    tasks = set(PeriodicTask.objects.values_list("task", flat=True))
    assert {
        "notifications.sweep_outbox",
        "notifications.poll_telegram",
        "notifications.login_reminders",
        "notifications.day_summaries",
    } <= tasks


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_killed_mid_delivery_loses_nothing(user, telegram, tmp_path, settings):
    """A celery worker claims the rows and hangs in sendMessage; SIGKILL; the sweep
    (after the claim timeout) hands them to the next run: delivered once."""
    from notifications.models import Preferences

    Preferences.objects.create(user=user, telegram_enabled=True, telegram_chat_id=CHAT)
    telegram.state.timeout_seconds = 30  # the worker's call hangs until it is killed
    telegram.state.fail("sendMessage", "timeout")
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{db['NAME']}",
        "SECRET_KEY": settings.SECRET_KEY,
        "SIGMATRADER_VAR_DIR": str(settings.VAR_DIR),
        "TELEGRAM_API_ROOT": telegram.url,
        "TELEGRAM_TIMEOUT": "60",
        "NOTIFICATIONS_DIGEST_SECONDS": "0",
        "CONN_MAX_AGE": "0",
    }
    if connection.vendor != "sqlite":
        pytest.skip("runs on the embedded defaults (SQLite + file queue)")
    # The worker shares the test run's file queue: tasks other tests left in it (an
    # execute_order for an id this test's order now has) must not run here.
    from sigmatrader.celery import app

    app.control.purge()
    move(order_of(account_of(user)), Order.Status.REJECTED, status_message="RMS")
    log = (tmp_path / "worker.log").open("wb")
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "sigmatrader",
            "worker",
            "--pool=solo",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel=INFO",
        ],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            claimed = Notification.objects.filter(state="sending").exists()
            if claimed and "sendMessage" in telegram.state.calls:  # hanging in the call
                break
            time.sleep(0.2)
        else:
            pytest.fail(
                "the worker never claimed the row: " + (tmp_path / "worker.log").read_text()
            )
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
    assert telegram.state.sent == []
    late = timezone.now() + timedelta(seconds=settings.NOTIFICATIONS_CLAIM_TIMEOUT + 1)
    assert services.sweep_outbox(now=late)["released"] == 1
    assert deliver_all(at=late) == 1
    assert len(telegram.state.messages_to(CHAT)) == 1
