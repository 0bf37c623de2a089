"""The broker registry, built from settings.SIGMATRADER_BROKERS.

The setting lists adapter classes by dotted path, the way Django lists
authentication backends. Adding a broker is one module plus one line there;
nothing else in the app imports an adapter by name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from .adapter import BrokerAdapter
from .base import (
    Capabilities,
    ConnectFlow,
    EndpointClass,
    GttKind,
    OrderType,
    Product,
    RateLimit,
    Validity,
    Variety,
)

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{1,30}$")
# Candle intervals in the app's words (Capabilities.history_intervals in brokers/base.py).
HISTORY_INTERVALS = ("1m", "3m", "5m", "10m", "15m", "30m", "1h", "1d")
MEMBERS = {
    "gtt_kinds": GttKind,
    "products": Product,
    "order_types": OrderType,
    "varieties": Variety,
    "validities": Validity,
}


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
    problems = capability_problems(adapter.capabilities)
    if problems:
        raise ImproperlyConfigured(f"{path}.capabilities: {'; '.join(problems)}")
    names = [f.name for f in adapter.credential_fields]
    if len(names) != len(set(names)):
        raise ImproperlyConfigured(f"{path} declares a credential field twice")


def _positive_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def capability_problems(caps: Capabilities) -> list[str]:
    """What in declared capabilities the app could not rely on ([] when nothing):
    templates, forms and services read them as data, so a wrong type or a
    contradiction would show only when a page or a worker met it."""
    problems = []
    for field, kind in MEMBERS.items():
        values = getattr(caps, field)
        if not isinstance(values, frozenset | set | tuple) or not all(
            isinstance(value, kind) for value in values
        ):
            problems.append(f"{field} must be a frozenset of {kind.__name__} members")
            return problems  # the checks below read these as sets
    if not caps.products or not caps.order_types:
        problems.append("products and order_types must each offer at least one")
    if Variety.REGULAR not in caps.varieties:
        problems.append("varieties must include Variety.REGULAR")
    if Validity.DAY not in caps.validities:
        problems.append("validities must include Validity.DAY")
    if caps.amo != (Variety.AMO in caps.varieties):
        problems.append("amo=True and Variety.AMO in varieties go together")
    if caps.gtt_modify and not caps.gtt_kinds:
        problems.append("gtt_modify=True needs gtt_kinds (a GTT to modify)")
    if not caps.exchanges:
        problems.append("exchanges must name at least one exchange")
    if not _positive_int(caps.quote_batch_size):
        problems.append(
            f"quote_batch_size must be a whole number >= 1, got {caps.quote_batch_size!r}"
        )
    if not isinstance(caps.history_max_days, Mapping) or not isinstance(caps.rate_limits, Mapping):
        problems.append("history_max_days and rate_limits must be dicts")
        return problems
    unknown = [i for i in caps.history_intervals if i not in HISTORY_INTERVALS]
    if unknown:
        problems.append(
            f"history_intervals {unknown} are not the app's ({' '.join(HISTORY_INTERVALS)})"
        )
    for interval, days in caps.history_max_days.items():
        if interval not in caps.history_intervals:
            problems.append(f"history_max_days names {interval!r}, not in history_intervals")
        elif not _positive_int(days):
            problems.append(f"history_max_days[{interval!r}] must be a whole number >= 1")
    for endpoint, limits in caps.rate_limits.items():
        if not isinstance(endpoint, EndpointClass):
            problems.append(f"rate_limits key {endpoint!r} is not an EndpointClass")
        if not (
            isinstance(limits, tuple)
            and limits
            and all(
                isinstance(limit, RateLimit)
                and _positive_int(limit.requests)
                and isinstance(limit.per_seconds, int | float)
                and limit.per_seconds > 0
                for limit in limits
            )
        ):
            problems.append(
                f"rate_limits[{endpoint!s}] must be a non-empty tuple of RateLimit "
                "(requests >= 1 per per_seconds > 0)"
            )
    return problems


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
