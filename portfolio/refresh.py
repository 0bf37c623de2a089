"""Refresh an account's portfolio soon after one of its orders fills.

Orders announce fills (orders.signals.order_filled); this module listens. At
most one refresh is queued per account per PORTFOLIO_REFRESH_DEBOUNCE_SECONDS
(cache.add), and it runs at the end of that window, so every fill inside the
window is in the positions it reads.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.cache import cache

from sigmatrader.queueing import enqueue

logger = logging.getLogger(__name__)


def debounce_seconds() -> int:
    return settings.PORTFOLIO_REFRESH_DEBOUNCE_SECONDS


def queue_refresh(account_id: int) -> bool:
    """Queue a portfolio sync of the account unless one is already queued; True if queued."""
    window = debounce_seconds()
    if not cache.add(f"portfolio:refresh-queued:{account_id}", 1, timeout=window):
        return False
    enqueue("portfolio.refresh_account", account_id, countdown=window)
    return True


def on_order_filled(sender, account_id, **kwargs) -> None:
    try:
        queue_refresh(account_id)
    except Exception:  # a fill is recorded whatever happens here; the 5-minute sync follows
        logger.exception("could not queue a portfolio refresh for account %s", account_id)
