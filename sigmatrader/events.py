"""Record audit events. The only way code writes a `SystemEvent`.

Details are scrubbed before they are stored: any key that names a secret
(token, secret, password, pin, totp, ...) has its value replaced, at any depth,
and JWT-looking strings are masked wherever they appear, the message included.
"""

import logging
import re
from collections.abc import Mapping

from .models import SystemEvent

logger = logging.getLogger(__name__)

REDACTED = "[redacted]"

# Words that make a key secret when they appear as a part of it
# ("request_token", "clientPin", "totp-secret", "X-PrivateKey").
SECRET_WORDS = frozenset(
    {
        "token",
        "secret",
        "password",
        "passwd",
        "pwd",
        "pin",
        "totp",
        "otp",
        "jwt",
        "authorization",
        "cookie",
        "apikey",
        "privatekey",
        "credential",
        "credentials",
        "sessionid",
        "checksum",
    }
)
_KEY_PARTS = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*")
_BEARER = re.compile(r"(?i)\b(bearer|token)\s+[A-Za-z0-9._:~+/=-]{12,}")


def is_secret_key(key: object) -> bool:
    text = str(key)
    parts = [p.lower() for p in _KEY_PARTS.findall(text)]
    if any(p in SECRET_WORDS for p in parts):
        return True
    # Joined neighbours catch "api_key" -> "apikey", "Private-Key" -> "privatekey".
    joined = {a + b for a, b in zip(parts, parts[1:], strict=False)}
    return bool(joined & SECRET_WORDS)


def scrub_text(text: str) -> str:
    text = _JWT.sub(REDACTED, text)
    return _BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", text)


def scrub(value):
    """Return a JSON-safe copy of `value` with secrets replaced by REDACTED."""
    if isinstance(value, Mapping):
        return {
            str(k): (REDACTED if is_secret_key(k) and v not in (None, "") else scrub(v))
            for k, v in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [scrub(v) for v in value]
    if isinstance(value, str):
        return scrub_text(value)
    if value is None or isinstance(value, bool | int | float):
        return value
    return scrub_text(str(value))


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
