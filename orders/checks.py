"""`manage.py check` (and every start): settings that would make the order sync
give up on an order the broker may still accept."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Tags, register

# Broker reads between the claim and the placement (risk: price, funds, margin).
READS_BEFORE_PLACING = 3


def worst_case_placement_seconds() -> float:
    """From the claim (SENDING) to the placement's last possible answer.

    Each read may wait for the rate limit, then time out on every try; the
    placement may wait for the rate limit, wait out the broker's rate-limit
    refusals for up to BROKER_RATE_LIMIT_MAX_WAIT, and then time out once.
    """
    wait = settings.BROKER_RATE_LIMIT_MAX_WAIT
    read = wait + settings.BROKER_READ_TIMEOUT * (1 + settings.BROKER_READ_RETRIES)
    place = wait + wait + settings.BROKER_ORDER_TIMEOUT
    return READS_BEFORE_PLACING * read + place


@register(Tags.compatibility, deploy=False)
def reconcile_grace_covers_placement(app_configs=None, **kwargs):
    worst = worst_case_placement_seconds()
    grace = settings.ORDER_RECONCILE_GRACE_SECONDS
    if grace < worst:
        return [
            Error(
                f"ORDER_RECONCILE_GRACE_SECONDS is {grace} s, shorter than the worst-case "
                f"placement time of {worst:.0f} s (BROKER_ORDER_TIMEOUT, BROKER_READ_TIMEOUT x "
                "(1 + BROKER_READ_RETRIES) for the risk reads, and BROKER_RATE_LIMIT_MAX_WAIT).",
                hint=f"Set ORDER_RECONCILE_GRACE_SECONDS to at least {worst:.0f}, or shorten "
                "the broker timeouts: otherwise the sync could mark FAILED an order the broker "
                "is still accepting.",
                id="orders.E001",
            )
        ]
    return []
