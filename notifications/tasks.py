"""Celery tasks: they only call services."""

from celery import shared_task

from sigmatrader.crypto import UndecryptableSecret

from . import daily, delivery, services, telegram


@shared_task(name="notifications.deliver", ignore_result=True)
def deliver(user_id: int, channel: str) -> dict:
    """One delivery run for a user's channel (queued on commit of an outbox row)."""
    services.unschedule(user_id=user_id, channel=channel)
    outcome = delivery.deliver(user_id=user_id, channel=channel)
    if outcome.later is not None:
        services.schedule(user_id=user_id, channel=channel, wait=outcome.later)
    return {"sent": outcome.sent, "later": outcome.later, "error": outcome.error}


@shared_task(name="notifications.sweep_outbox", ignore_result=True)
def sweep_outbox() -> dict:
    """Beat: rows a lost worker or a lost message left behind are delivered."""
    return services.sweep_outbox()


@shared_task(name="notifications.poll_telegram", ignore_result=True)
def poll_telegram() -> dict:
    """Beat: the bot's new messages (`/start <code>` links a chat)."""
    try:
        return services.poll_telegram()
    except telegram.TelegramError as exc:
        return {"error": exc.message}
    except UndecryptableSecret:
        return {"error": "the bot token cannot be decrypted with the configured keys"}


@shared_task(name="notifications.login_reminders", ignore_result=True)
def login_reminders() -> int:
    """Beat, before the open: accounts that need their daily login."""
    return daily.login_reminders()


@shared_task(name="notifications.day_summaries", ignore_result=True)
def day_summaries() -> int:
    """Beat, after the close: one summary per account with activity today."""
    return daily.day_summaries()
