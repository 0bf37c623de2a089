"""The kill switch in the top bar, the halt banner on every page and the day P&L
card on the dashboard: included by base.html and the dashboard, which belong to
apps below this one (they load this library; they import nothing of it). The
banner and the card poll (protection/live_views.py) to stay current."""

from __future__ import annotations

from django import template

from .. import selectors

register = template.Library()


def _user(context):
    request = context.get("request")
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None


def banner_context(user) -> dict:
    halts = selectors.halts_in_force(user=user)
    if halts:
        selectors.count_failures(halts)
    return {"halts": halts}


def card_context(user) -> dict:
    return {"rows": selectors.limits_overview(user=user)}


@register.inclusion_tag("protection/_kill_switch_link.html", takes_context=True)
def kill_switch_link(context) -> dict:
    return {"user": _user(context)}


@register.inclusion_tag("protection/_halt_banner.html", takes_context=True)
def halt_banner(context) -> dict:
    user = _user(context)
    return banner_context(user) if user is not None else {"halts": []}


@register.inclusion_tag("protection/_day_pnl_card.html", takes_context=True)
def day_pnl_card(context) -> dict:
    user = _user(context)
    return card_context(user) if user is not None else {"rows": []}
