"""Scrubbing secrets out of anything stored or logged. No Django models here, so
the logging configuration can use it while settings load."""

import json
import re
from collections.abc import Mapping
from urllib.parse import unquote_plus

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


# URL paths whose segment after the prefix is a credential (the URL is the secret).
SECRET_PATH_PREFIXES = ("/webhooks/tradingview/",)
_SECRET_PATH = re.compile(
    "(" + "|".join(re.escape(p) for p in SECRET_PATH_PREFIXES) + r")[^/\s?#\"'<>]+"
)
# A query-string parameter: `?request_token=…`, `&refreshToken=…`.
_QUERY_PARAM = re.compile(r"([?&;])([A-Za-z0-9_.\-\[\]]+)=([^&;\s#\"'<>]*)")
# `"key": "value"`, `'key': 'value'`, `key=value` in free text (dict reprs, request dumps).
_KEY_VALUE = re.compile(
    r"""(?P<q>["']?)(?P<key>[A-Za-z_][A-Za-z0-9_\-]*)(?P=q)(?P<sep>\s*[:=]\s*)"""
    r"""(?P<value>"(?:[^"\\]|\\.)*(?:"|$)|'(?:[^'\\]|\\.)*(?:'|$)|[^\s,&;{}\[\]()"']+)"""
)
# A JSON member whose key is secret, the value a string (maybe cut off) or a bare word.
_JSON_MEMBER = re.compile(
    r"""(?P<key>"(?:[^"\\]|\\.)*")(?P<sep>\s*:\s*)"""
    r"""(?P<value>"(?:[^"\\]|\\.)*(?:"|$)|\[[^\[\]{}]*(?:\]|$)|\{[^{}]*(?:\}|$)"""
    r"""|[^\s,{}\[\]"]+)"""
)

# A Telegram bot token in a Bot API URL path: /bot123456:ABC-def.../sendMessage.
_TELEGRAM_BOT_PATH = re.compile(r"/bot\d+:[A-Za-z0-9_-]+")
_URL_PASSWORD = re.compile(r"(\b[A-Za-z][A-Za-z0-9+.\-]*://[^:/\s@]*:)[^@\s/]+@")
_ENCODED_QUERY = re.compile(r"\?[^\s#\"'<>]*%[0-9A-Fa-f]{2}[^\s#\"'<>]*")


def _mask_query(match: re.Match) -> str:
    lead, name, value = match.groups()
    if value and is_secret_key(name):
        return f"{lead}{name}={REDACTED}"
    return match.group(0)


def _mask_encoded_query(match: re.Match) -> str:
    # A client may put a whole JSON object, percent-encoded, in the query string
    # (`?%7B%22refreshToken%22:...`): look at it decoded.
    query = match.group(0)
    decoded = unquote_plus(query)
    if decoded == query:
        return query
    masked = _KEY_VALUE.sub(_mask_pair, _QUERY_PARAM.sub(_mask_query, decoded))
    return masked if masked != decoded else query


def scrub_url(text: str) -> str:
    """Mask credentials carried in URLs: passwords (`redis://:pw@host`), secret path
    segments and query parameters."""
    text = _URL_PASSWORD.sub(lambda m: m.group(1) + REDACTED + "@", text)
    text = _SECRET_PATH.sub(lambda m: m.group(1) + REDACTED, text)
    text = _TELEGRAM_BOT_PATH.sub("/bot" + REDACTED, text)
    text = _ENCODED_QUERY.sub(_mask_encoded_query, text)
    return _QUERY_PARAM.sub(_mask_query, text)


def scrub_text(text: str) -> str:
    text = _JWT.sub(REDACTED, text)
    text = _BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    return scrub_url(text)


def _mask_pair(match: re.Match) -> str:
    if not is_secret_key(match.group("key").strip("\"'")):
        return match.group(0)
    value = match.group("value")
    if value.strip("\"'").startswith(REDACTED[:-1]):
        return match.group(0)
    quote = value[0] if value[:1] in "\"'" else ""
    return f"{match.group('q')}{match.group('key')}{match.group('q')}{match.group('sep')}" + (
        f"{quote}{REDACTED}{quote}"
    )


def scrub_log_text(text: str) -> str:
    """scrub_text plus `key: value` pairs whose key is secret (request dumps, dict reprs)."""
    return _KEY_VALUE.sub(_mask_pair, scrub_text(text))


def _mask_json_member(match: re.Match) -> str:
    try:
        key = json.loads(match.group("key"))
    except ValueError:
        key = match.group("key").strip('"')
    value = match.group("value")
    if not is_secret_key(key):
        if value[:1] in "[{":  # an array or object: its members are looked at too
            value = value[0] + mask_json_text(value[1:])
        return f"{match.group('key')}{match.group('sep')}{value}"
    return f'{match.group("key")}{match.group("sep")}"{REDACTED}"'


def mask_json_text(text: str) -> str:
    """Mask the values of secret members in JSON text, valid or not (a stored body may be
    cut off or malformed), keeping everything else byte for byte."""
    return _JSON_MEMBER.sub(_mask_json_member, text)


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
