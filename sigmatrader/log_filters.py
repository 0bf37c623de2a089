"""Secrets never reach a log line, whoever logs it and whatever handler writes it.

Two layers:

- `install_record_factory()` wraps the process's LogRecord factory, so every
  record is scrubbed when it is made: handlers the project does not configure
  (Celery's, gunicorn's, a test's capture) get clean records too, at any level.
- `RedactSecrets`, the filter on the project's own handlers, scrubs again (a
  record made before the factory was installed, or by a handler-level copy).

What is masked: JWTs, bearer values, secret URL path segments (the webhook
token), secret query parameters (`request_token`, `refreshToken`), `key: value`
pairs whose key is secret, tracebacks, and in SQL debug lines (django.db.backends)
every quoted literal and the parameter list: a stored secret (a session key, a
hashed or encrypted value) has no business in a log.
"""

import logging
import re
import traceback

from .redaction import REDACTED, scrub_log_text

_SQL_LITERAL = re.compile(r"'(?:[^']|'')*'")
_SQL_LOGGER = "django.db.backends"


def _mask_sql(sql: str) -> str:
    return _SQL_LITERAL.sub(f"'{REDACTED}'", sql)


def _scrub_sql(record: logging.LogRecord) -> None:
    # Django: debug("(%.3f) %s; args=%s; alias=%s", duration, sql, params, alias,
    # extra={"duration", "sql", "params", "alias"}); the extras are set after the
    # record is made, so the filter masks them (_scrub_sql_extras).
    args = record.args
    if isinstance(args, tuple) and len(args) == 4 and isinstance(args[1], str):
        duration, sql, _params, alias = args
        timing = f"({duration:.3f}) " if isinstance(duration, int | float) else ""
        record.msg, record.args = f"{timing}{_mask_sql(sql)}; args={REDACTED}; alias={alias}", ()
    else:
        record.msg, record.args = _mask_sql(record.getMessage()), ()


def _scrub_sql_extras(record: logging.LogRecord) -> None:
    if isinstance(getattr(record, "sql", None), str):
        record.sql = _mask_sql(record.sql)
    if getattr(record, "params", None) is not None:
        record.params = REDACTED


def _is_sql(record: logging.LogRecord) -> bool:
    return record.name == _SQL_LOGGER or record.name.startswith(_SQL_LOGGER + ".")


def scrub_record(record: logging.LogRecord) -> logging.LogRecord:
    if getattr(record, "_sigmatrader_scrubbed", False):
        return record
    record._sigmatrader_scrubbed = True
    try:
        if _is_sql(record):
            _scrub_sql(record)
        message = record.getMessage()
    except Exception:  # a broken format string is the caller's problem, keep the line
        return record
    cleaned = scrub_log_text(message)
    if cleaned != message or record.args:
        record.msg, record.args = cleaned, ()
    if record.exc_info and not record.exc_text:
        record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
    if record.exc_text:
        record.exc_text = scrub_log_text(record.exc_text)
    if record.stack_info:
        record.stack_info = scrub_log_text(record.stack_info)
    return record


class RedactSecrets(logging.Filter):
    """Mask secrets in every log line, whoever logs it (a third-party client in debug
    mode included)."""

    def filter(self, record: logging.LogRecord) -> bool:
        scrub_record(record)
        if _is_sql(record):
            _scrub_sql_extras(record)
        return True


_installed = False


def install_record_factory() -> None:
    """Scrub every LogRecord this process makes (idempotent)."""
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args, **kwargs):
        return scrub_record(previous(*args, **kwargs))

    logging.setLogRecordFactory(factory)
    _installed = True
