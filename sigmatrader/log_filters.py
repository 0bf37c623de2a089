import logging

from .redaction import scrub_text


class RedactSecrets(logging.Filter):
    """Mask JWTs and bearer/token values in every log line, whoever logs it
    (a third-party client in debug mode included)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is the caller's problem, keep the line
            return True
        cleaned = scrub_text(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True
