"""The Celery app: configuration comes from Django settings (CELERY_* names)."""

import logging
import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sigmatrader.settings")

app = Celery("sigmatrader")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
logger = logging.getLogger("sigmatrader.celery")


@signals.worker_ready.connect
def say_unreadable_secrets_at_start(**kwargs):
    """Celery runs Django's system checks at start but prints nothing: a SECRET_KEY
    that opens no stored broker secret is said here, loudly, once."""
    from brokers.checks import stored_secrets_readable

    try:
        messages = stored_secrets_readable()
    except Exception:  # a start-up diagnostic never stops the worker
        logger.warning("could not check the stored broker secrets at start", exc_info=True)
        return
    for message in messages:
        level = logging.CRITICAL if message.is_serious() else logging.WARNING
        logger.log(level, "%s: %s %s", message.id, message.msg, message.hint or "")
