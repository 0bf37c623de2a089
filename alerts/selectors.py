"""Reads for the alerts pages, always scoped to the signed-in user."""

from __future__ import annotations

from django.db.models import OuterRef, Subquery
from django.shortcuts import get_object_or_404

from sigmatrader.params import object_id

from .models import AlertEvent, AlertRule, ScreenerRun


def rules_of(*, user):
    """The user's rules, each with its watchlist's name (`watchlist_name`, the user's own
    list only; None when it is gone) in the same query."""
    from watchlists.models import Watchlist

    name = Watchlist.objects.filter(pk=OuterRef("watchlist_id"), user=user).values("name")[:1]
    return (
        AlertRule.objects.filter(user=user)
        .select_related("holdings_account", "action_account")
        .annotate(watchlist_name=Subquery(name))
    )


def rule_for(*, user, rule_id) -> AlertRule:
    """The user's rule, or 404 (another user's rule looks absent)."""
    return get_object_or_404(rules_of(user=user), pk=object_id(rule_id) or 0)


def events_of(*, user, rule=None):
    events = AlertEvent.objects.filter(user=user).select_related("rule", "order", "account")
    return events.filter(rule=rule) if rule is not None else events


def unseen_count(*, user) -> int:
    return AlertEvent.objects.filter(user=user, seen=False).count()


def runs_of(*, user):
    return ScreenerRun.objects.filter(user=user).defer("results")


def run_for(*, user, run_id) -> ScreenerRun:
    return get_object_or_404(ScreenerRun.objects.filter(user=user), pk=object_id(run_id) or 0)
