"""What a webhook token routes to, cached in each process and invalidated on change.

Every delivery needs the token's endpoint and user, the user's strategies (by
name, with their accounts) and the default account: two or three queries per
alert that almost never change. They are kept per token hash in process
memory, tagged with a shared generation (`sigmatrader.counters.generation`: a
file stat on the embedded default, one GET on Redis). Rotating or deleting a
token, setting the secret, editing, adding or deleting a strategy and any
change to a broker account (or a user) bump the generation — right away and
again after the commit — so every process reloads on its next delivery. The
generation is read before the rows, so a load that raced an edit is tagged
with the older generation and thrown away at once. `ROUTE_MAX_AGE` bounds any
path that writes without signals.

Unknown tokens are never cached (random tokens must not fill memory), and the
cached rows carry no credentials or session (deferred).
"""

from __future__ import annotations

import copy
import threading
import time
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from brokers import signals as broker_signals
from brokers.models import BrokerAccount
from sigmatrader import counters

from .models import Strategy, WebhookEndpoint

GENERATION = "webhook-routes"
ROUTE_MAX_AGE = 30.0  # seconds
MAX_ROUTES = 10_000
SECRET_FIELDS = ("session", "credentials")


@dataclass
class Route:
    endpoint: WebhookEndpoint
    strategies: dict[str, Strategy]
    default_account: BrokerAccount | None
    generation: object
    loaded_at: float = field(default_factory=time.monotonic)

    @property
    def user(self):
        return self.endpoint.user

    def strategy(self, name: str) -> Strategy | None:
        """A copy (callers may set attributes on it) of the strategy named `name`."""
        found = self.strategies.get(name)
        return copy.copy(found) if found is not None else None


_routes: dict[str, Route] = {}
_lock = threading.Lock()


def lookup(token_hash: str) -> Route | None:
    """The route of a token hash, or None for an unknown token."""
    current = counters.generation(GENERATION)
    route = _routes.get(token_hash)
    if (
        route is not None
        and route.generation == current
        and time.monotonic() - route.loaded_at < ROUTE_MAX_AGE
    ):
        return route
    route = _load(token_hash, current)
    with _lock:
        if route is None:
            _routes.pop(token_hash, None)
        else:
            if len(_routes) >= MAX_ROUTES:
                _routes.clear()
            _routes[token_hash] = route
    return route


def _load(token_hash: str, generation) -> Route | None:
    endpoint = WebhookEndpoint.objects.filter(token_hash=token_hash).select_related("user").first()
    if endpoint is None:
        return None
    strategies = {
        strategy.name: strategy
        for strategy in Strategy.objects.filter(user=endpoint.user)
        .select_related("account")
        .defer(*(f"account__{name}" for name in SECRET_FIELDS))
    }
    default = (
        BrokerAccount.objects.filter(user=endpoint.user, is_default=True)
        .defer(*SECRET_FIELDS)
        .first()
    )
    for strategy in strategies.values():
        strategy.user = endpoint.user  # no query for strategy.user later
    return Route(endpoint, strategies, default, generation)


def forget() -> None:
    """Drop every cached route in this process (tests; the generation does it everywhere)."""
    with _lock:
        _routes.clear()


def invalidate() -> None:
    """Every process reloads routes on its next delivery (now, and after the commit)."""
    counters.bump_generation(GENERATION)
    transaction.on_commit(lambda: counters.bump_generation(GENERATION), robust=True)


@receiver(post_save, sender=WebhookEndpoint)
@receiver(post_delete, sender=WebhookEndpoint)
@receiver(post_save, sender=Strategy)
@receiver(post_delete, sender=Strategy)
@receiver(post_save, sender=BrokerAccount)
@receiver(post_delete, sender=BrokerAccount)
def _changed(sender, **kwargs):
    if kwargs.get("raw"):
        return  # fixture loading
    invalidate()


@receiver(broker_signals.default_account_changed)
def _default_changed(sender, **kwargs):
    invalidate()


def _user_changed(sender, **kwargs):
    if not kwargs.get("raw"):
        invalidate()


post_save.connect(_user_changed, sender=get_user_model(), dispatch_uid="webhook-routes-user")
post_delete.connect(_user_changed, sender=get_user_model(), dispatch_uid="webhook-routes-user-del")
