"""The broker registry, built from settings.SIGMATRADER_BROKERS.

The setting lists adapter classes by dotted path, the way Django lists
authentication backends. Adding a broker is one module plus one line there;
nothing else in the app imports an adapter by name.
"""

from __future__ import annotations

import re
from functools import cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from .adapter import BrokerAdapter
from .base import (
    Capabilities,
    ConnectFlow,
)

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{1,30}$")


class UnknownBroker(LookupError):
    pass


def validate_adapter(adapter: type) -> None:
    """Refuse an adapter class that does not declare what the app relies on."""
    if not isinstance(adapter, type):
        # A path naming a module or a function: no __qualname__ to describe it by.
        what = getattr(adapter, "__name__", None) or type(adapter).__name__
        raise ImproperlyConfigured(f"{what} is not a BrokerAdapter subclass (not a class)")
    path = f"{adapter.__module__}.{adapter.__qualname__}"
    if not issubclass(adapter, BrokerAdapter):
        raise ImproperlyConfigured(f"{path} is not a BrokerAdapter subclass")
    name = getattr(adapter, "name", None)
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise ImproperlyConfigured(f"{path}.name must be a lower-case identifier, got {name!r}")
    if not getattr(adapter, "label", ""):
        raise ImproperlyConfigured(f"{path} must declare a label")
    if not isinstance(getattr(adapter, "connect_flow", None), ConnectFlow):
        raise ImproperlyConfigured(f"{path}.connect_flow must be a ConnectFlow")
    if not isinstance(adapter.capabilities, Capabilities):
        raise ImproperlyConfigured(f"{path}.capabilities must be a Capabilities")
    names = [f.name for f in adapter.credential_fields]
    if len(names) != len(set(names)):
        raise ImproperlyConfigured(f"{path} declares a credential field twice")


def load(paths: list[str]) -> dict[str, type[BrokerAdapter]]:
    adapters: dict[str, type[BrokerAdapter]] = {}
    for path in paths:
        try:
            adapter = import_string(path)
        except ImportError as exc:
            raise ImproperlyConfigured(f"SIGMATRADER_BROKERS: cannot import {path}: {exc}") from exc
        validate_adapter(adapter)
        if adapter.name in adapters:
            raise ImproperlyConfigured(
                f"SIGMATRADER_BROKERS: two adapters are named {adapter.name}"
            )
        adapters[adapter.name] = adapter
    return adapters


@cache
def _adapters() -> dict[str, type[BrokerAdapter]]:
    return load(list(settings.SIGMATRADER_BROKERS))


def reset() -> None:
    """Forget the loaded adapters (tests that change the setting call this)."""
    _adapters.cache_clear()


def all_adapters() -> list[type[BrokerAdapter]]:
    return list(_adapters().values())


def get_adapter_class(name: str) -> type[BrokerAdapter]:
    try:
        return _adapters()[name]
    except KeyError:
        raise UnknownBroker(f"No broker named {name!r} is registered") from None


def choices() -> list[tuple[str, str]]:
    return [(a.name, a.label) for a in all_adapters()]
