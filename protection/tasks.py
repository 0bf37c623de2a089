from celery import shared_task

from .limits import watch


@shared_task(name="protection.watch_limits", ignore_result=True)
def watch_limits() -> dict:
    """Beat, every 20 s: day P&L of accounts under a loss limit (market hours only),
    halts started where a limit is reached, halts' failed actions retried."""
    return watch()
