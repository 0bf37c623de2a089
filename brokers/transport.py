"""What a failed HTTP call means for the caller: the one place that decides
whether a request may have reached the broker.

Used by every adapter after its broker-specific errors are mapped. For an
order placement, anything that may have reached the broker is OutcomeUnknown:
the order might exist, so the caller reconciles by its tag instead of resending.
"""

from __future__ import annotations

import requests

from .base import BrokerError, BrokerUnavailable, OutcomeUnknown


def never_sent(exc: Exception) -> bool:
    """True when the TCP connection was never made, so nothing reached the broker."""
    if isinstance(exc, requests.exceptions.ConnectTimeout | requests.exceptions.InvalidURL):
        return True
    if isinstance(exc, requests.exceptions.ConnectionError):
        cause = repr(exc.args[0]) if exc.args else ""
        return "NewConnectionError" in cause or "NameResolutionError" in cause
    return False


def transport_error(exc: Exception, *, broker: str, placement: bool) -> BrokerError:
    """Map an error the broker-specific mapping did not recognise."""
    if never_sent(exc):
        return BrokerUnavailable(f"{broker} could not be reached.", code="connect")
    if placement:
        return OutcomeUnknown(
            f"No clear answer from {broker}: the order may or may not have been placed.",
            code=type(exc).__name__,
        )
    if isinstance(exc, requests.exceptions.Timeout):
        return BrokerUnavailable(f"{broker} did not answer in time.", code="timeout")
    detail = str(exc)[:200] or type(exc).__name__
    return BrokerUnavailable(f"{broker} is unavailable ({detail}).", code=type(exc).__name__)
