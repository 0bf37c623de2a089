"""At start (`manage.py check`, runserver, migrate, the Celery worker): a
SECRET_KEY that opens none of the stored broker secrets is a configuration
error, said once and loudly, not a 500 on every page."""

from __future__ import annotations

from django.core.checks import Error, Tags, Warning, register
from django.db import DatabaseError

from .models import BrokerAccount

SAMPLE = 200


@register(Tags.security)
def stored_secrets_readable(app_configs=None, **kwargs):
    try:
        rows = list(BrokerAccount.objects.only("pk", "credentials", "session")[:SAMPLE])
    except (DatabaseError, RuntimeError):  # no database, no table yet, or none allowed
        return []
    if not rows:
        return []
    unreadable = [row.pk for row in rows if row.secrets_unreadable]
    if not unreadable:
        return []
    if len(unreadable) == len(rows):
        return [
            Error(
                f"None of the {len(rows)} stored broker account(s) can be decrypted: SECRET_KEY "
                "(or FIELD_ENCRYPTION_SALTS) is not the one they were encrypted with.",
                hint="Restore the previous SECRET_KEY, or put it in SECRET_KEY_FALLBACKS and "
                "run `manage.py reencrypt_secrets`.",
                id="brokers.E001",
            )
        ]
    return [
        Warning(
            f"Broker account(s) {', '.join(map(str, unreadable))} have stored credentials no "
            "configured key opens; their owners are asked to reconnect.",
            hint="Reset them in the admin (Broker accounts → Reset stored credentials) or "
            "delete them.",
            id="brokers.W001",
        )
    ]
