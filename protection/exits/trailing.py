"""Trailing (beat): the stop follows the best price since the fill and only tightens."""

from __future__ import annotations

import logging
from datetime import datetime
from decimal import Decimal

from django.db.models import Q
from django.utils import timezone

from brokers.base import BrokerError
from marketdata.quotes import ltp
from orders import exit_plans
from orders.history import log
from orders.models import ExitPlan, Order

from .moving import replace_native
from .plan_state import lock_plan, set_note, unlock_plan
from .policy import ACTOR, State, Status, is_long, stop_condition, tick_of

logger = logging.getLogger(__name__)


def trail_stops(now: datetime | None = None) -> dict:
    """Beat: move trailing stops of active plans towards the best price (never back)."""
    plans = list(
        ExitPlan.objects.filter(state=State.ACTIVE)
        .exclude(trailing_stop="")
        .select_related("entry", "entry__account", "entry__instrument")
    )
    by_account: dict[int, list[ExitPlan]] = {}
    for stored in plans:
        entry = stored.entry
        if entry.account and entry.account.is_connected and entry.instrument:
            by_account.setdefault(entry.account.pk, []).append(stored)
    moved = 0
    for group in by_account.values():
        account = group[0].entry.account
        assert account is not None
        instruments = list({s.entry.instrument for s in group if s.entry.instrument})
        try:
            prices = ltp(account=account, instruments=instruments)
        except BrokerError as exc:
            logger.warning("trailing: no prices for account %s: %s", account.pk, exc.message)
            continue
        for stored in group:
            price = prices.get(stored.entry.instrument_id or 0)
            if price is not None and price > 0 and trail_one(stored, price=price):
                moved += 1
    return {"trailing": len(plans), "moved": moved}


def trail_one(stored: ExitPlan, *, price: Decimal) -> bool:
    """One price for one plan: the best price moves on; the stop follows if it tightens."""
    entry = stored.entry
    plan = stored.plan
    if plan is None or plan.trailing_stop is None or stored.fill_price is None:
        return False
    best = exit_plans.better(entry.side, price, stored.best_price)
    if best != stored.best_price:
        ExitPlan.objects.filter(pk=stored.pk).update(best_price=best)
        stored.best_price = best
    current = stored.stop_level
    if current is None:
        return False
    new = exit_plans.next_stop(
        plan=plan,
        side=entry.side,
        fill=stored.fill_price,
        best=best,
        current=current,
        tick=tick_of(entry),
    )
    if not exit_plans.tighter(entry.side, new, current):
        return False
    if not entry.exit_legs.filter(status=Status.ARMED, condition=stop_condition(entry)).exists():
        return False  # nothing armed to move yet (arming in flight): the next price does it
    if not lock_plan(stored.pk):
        return False
    try:
        return _tighten(entry, stored, old=current, new=new)
    finally:
        unlock_plan(stored.pk)


def _tighten(entry: Order, stored: ExitPlan, *, old: Decimal, new: Decimal) -> bool:
    # The plan's stop moves only forward: one conditional UPDATE from the level read.
    if not ExitPlan.objects.filter(pk=stored.pk, stop_level=old, state=State.ACTIVE).update(
        stop_level=new, updated_at=timezone.now()
    ):
        return False
    stored.stop_level = new
    condition = stop_condition(entry)
    legs = list(entry.exit_legs.filter(status=Status.ARMED, condition=condition))
    managed = [leg for leg in legs if not leg.gtt_id]
    tighter = Q(trigger_value__lt=new) if is_long(entry) else Q(trigger_value__gt=new)
    for leg in managed:
        if Order.objects.filter(tighter, pk=leg.pk, status=Status.ARMED).update(
            trigger_value=new, updated_at=timezone.now()
        ):
            log(leg, "edited", f"Trailing stop moved {old} → {new}", actor=ACTOR)
    if len(managed) < len(legs):
        problem = replace_native(
            entry, stored, stop=new, target=None, why=f"Trailing stop {old} → {new}", actor=ACTOR
        )
        if problem:
            unchanged = entry.exit_legs.filter(
                status=Status.ARMED, condition=condition, trigger_value=old
            ).exclude(gtt_id="")
            if unchanged.exists():
                # The broker still holds the old stop: the plan says so, and the next
                # price tries again (a modify sets absolute values: safe to repeat).
                ExitPlan.objects.filter(pk=stored.pk, stop_level=new).update(stop_level=old)
                stored.stop_level = old
            set_note(stored, f"Trailing stop {new} not at the broker yet: {problem}")
            return False
    set_note(stored, f"Trailing: stop {new} (best {stored.best_price}).")
    return True
