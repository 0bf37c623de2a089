"""Scrubbing secrets out of anything stored or logged. No Django models here, so
the logging configuration can use it while settings load."""

import re
from collections.abc import Mapping

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
