from celery import shared_task

from . import connections


@shared_task(name="brokers.refresh_broker_sessions")
def refresh_broker_sessions() -> dict:
    """Beat, every few minutes: renew, re-login or expire every account's session."""
    return connections.refresh_all_sessions()
