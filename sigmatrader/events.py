"""Record audit events. The only way code writes a `SystemEvent`.

Details are scrubbed before they are stored: any key that names a secret
(token, secret, password, pin, totp, ...) has its value replaced, at any depth,
and JWT-looking strings are masked wherever they appear, the message included.
"""

import logging
from collections.abc import Mapping

from .models import SystemEvent
from .redaction import REDACTED, is_secret_key, scrub, scrub_text  # noqa: F401 (re-exported)

logger = logging.getLogger(__name__)


def record_event(
    *,
    category: str,
    message: str,
    level: str = SystemEvent.Level.INFO,
    user=None,
    details: Mapping | None = None,
    correlation_id: str = "",
) -> SystemEvent:
    """Store one audit event (scrubbed) and echo it to the log."""
    event = SystemEvent.objects.create(
        user=user if getattr(user, "is_authenticated", False) else None,
        level=level,
        category=category,
        message=scrub_text(message),
        details=scrub(dict(details or {})),
        correlation_id=correlation_id[:64],
    )
    logger.log(
        logging.getLevelName(str(level).upper()),
        "event %s category=%s user=%s: %s",
        event.pk,
        category,
        event.user_id,
        event.message,
    )
    return event
