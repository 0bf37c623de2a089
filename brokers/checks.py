"""At start (`manage.py check`, runserver, migrate, the Celery worker):

- a SECRET_KEY that opens none of the stored broker secrets is a configuration
  error, said once and loudly, not a 500 on every page (brokers.E001/W001);
- every entry of SIGMATRADER_BROKERS must import, be a BrokerAdapter that
  declares what the app relies on (the registry's own validation), under a
  name no other entry uses (brokers.E002-E005), instead of failing at the
  first page that asks the registry.
"""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError
from django.utils.module_loading import import_string

from . import registry
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


SETTING = "SIGMATRADER_BROKERS"
REGISTRY_HINT = (
    "Each entry is the dotted path of a BrokerAdapter subclass, e.g. "
    "'paper.adapter.PaperAdapter' (the class, not its module); see brokers/adapter.py."
)


@register()
def broker_registry(app_configs=None, **kwargs):
    """SIGMATRADER_BROKERS, entry by entry, with the registry's own validation."""
    paths = getattr(settings, SETTING, None)
    if (
        isinstance(paths, str)
        or not isinstance(paths, list | tuple)
        or not paths
        or not all(isinstance(path, str) and path.strip() for path in paths)
    ):
        return [
            Error(
                f"{SETTING} must be a non-empty list of dotted paths, got {paths!r}.",
                hint=REGISTRY_HINT,
                id="brokers.E005",
            )
        ]
    errors = []
    named: dict[str, str] = {}
    for path in paths:
        try:
            adapter = import_string(path)
        except Exception as exc:  # ImportError, or whatever the module raised on import
            errors.append(
                Error(
                    f"{SETTING}: cannot import {path!r}: {type(exc).__name__}: {exc}",
                    hint=REGISTRY_HINT,
                    id="brokers.E002",
                )
            )
            continue
        try:
            registry.validate_adapter(adapter)
        except ImproperlyConfigured as exc:
            errors.append(
                Error(
                    f"{SETTING}: {path!r} is not a usable adapter: {exc}",
                    hint="A subclass of brokers.adapter.BrokerAdapter declaring a lower-case "
                    "`name`, a `label`, a `connect_flow` (ConnectFlow) and `capabilities` "
                    "(Capabilities); see 'Writing an adapter' in brokers/adapter.py.",
                    id="brokers.E003",
                )
            )
            continue
        if adapter.name in named:
            errors.append(
                Error(
                    f"{SETTING}: {path!r} and {named[adapter.name]!r} are both named "
                    f"{adapter.name!r}.",
                    hint="The name is the key stored on every account of that broker: "
                    "give each adapter its own, and never rename one in use.",
                    id="brokers.E004",
                )
            )
            continue
        named[adapter.name] = path
    if not errors:
        try:  # whatever else the registry refuses (it is what the app loads at first use)
            registry.load(list(paths))
        except ImproperlyConfigured as exc:
            errors.append(Error(str(exc), hint=REGISTRY_HINT, id="brokers.E003"))
    return errors
