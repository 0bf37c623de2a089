"""Arming on fill: the entry's filled quantity claimed once and protected, grown on
later fills; an exit's fill closing the plan (`orders.signals.order_filled`)."""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from orders import exit_plans
from orders.history import log
from orders.models import ExitPlan, Order

from .legs import create_pair, send_legs
from .plan_state import (
    close_plan,
    exited_quantity,
    levels_text,
    lock_plan,
    not_protected,
    set_note,
    unlock_plan,
)
from .policy import ACTOR, State, Status, lot_of, money, stop_condition, tick_of, wrong_side
from .reconcile import manual_exit_filled

logger = logging.getLogger(__name__)


def on_order_filled(sender, account_id, order_ids=(), **kwargs) -> None:
    """orders.signals.order_filled: arm or grow entries' exits; close plans whose exit filled."""
    for order_id in order_ids or ():
        try:
            handle_fill(order_id=order_id)
        except Exception:  # a fill is recorded whatever happens here; the beat sweeps again
            logger.exception("protection: could not handle the fill of order %s", order_id)


def handle_fill(*, order_id: int) -> str:
    order = Order.objects.select_related("account", "instrument").filter(pk=order_id).first()
    if order is None:
        return ""
    if order.protects_id:
        return exit_filled(order)
    if not ExitPlan.objects.filter(entry=order, state__in=ExitPlan.OPEN_STATES).exists():
        return manual_exit_filled(order)  # a trader's exit: the legs shrink at once
    return arm_entry(entry=order)


def arm_entry(*, entry: Order) -> str:
    """Protect what of `entry` has filled and is not yet protected. Exactly once per
    quantity: the claim is the conditional UPDATE of `protected_quantity`."""
    stored = ExitPlan.objects.filter(entry=entry, state__in=ExitPlan.OPEN_STATES).first()
    if stored is None:
        return ""
    plan = stored.plan
    if plan is None:
        return ""
    entry.refresh_from_db()
    if entry.account is None or not entry.filled_quantity or not entry.average_price:
        return ""
    wanted = exit_plans.protectable(entry.filled_quantity, lot_of(entry))
    have = stored.protected_quantity
    if wanted <= have:
        return ""
    if not lock_plan(stored.pk):
        return "busy"
    try:
        return _arm(entry, stored, plan, have=have, wanted=wanted)
    finally:
        unlock_plan(stored.pk)


def _arm(entry: Order, stored: ExitPlan, plan, *, have: int, wanted: int) -> str:
    now = timezone.now()
    fields: dict = {
        "protected_quantity": wanted,
        "state": State.ACTIVE,
        "armed_at": now,
        "updated_at": now,
    }
    first = have == 0
    if first:  # the levels, fixed from the average fill price at the first arming
        fill, tick = entry.average_price, tick_of(entry)
        assert fill is not None  # checked by arm_entry
        stop = exit_plans.initial_stop(plan, fill=fill, side=entry.side, tick=tick)
        target = (
            exit_plans.target_level(plan.target, fill=fill, side=entry.side, tick=tick)
            if plan.target
            else None
        )
        wrong = wrong_side(side=entry.side, fill=fill, stop=stop, target=target)
        if wrong:  # never arm a reversed plan: it would exit at once, or never
            not_protected(entry, stored, wrong, refused=True)
            return "wrong side"
        fields.update(fill_price=fill, best_price=fill, stop_level=stop, target_level=target)
    claimed = ExitPlan.objects.filter(
        pk=stored.pk, protected_quantity=have, state__in=ExitPlan.OPEN_STATES
    ).update(**fields)
    if not claimed:
        return "claimed elsewhere"
    stored.refresh_from_db()
    delta = wanted - have
    if first:
        log(
            entry,
            "status",
            f"Protection: {delta} filled at {money(entry.average_price, entry)}; "
            f"arming {levels_text(stored)}",
            actor=ACTOR,
        )
    elif _grow_managed(entry, stored, delta):
        set_note(
            stored,
            f"Armed for {wanted}: {levels_text(stored)}; "
            "managed by SigmaTrader (needs the app running).",
        )
        return Status.ARMED
    note = "on the fill" if first else f"{delta} more filled"
    legs = create_pair(entry, stored, delta, note=note)
    return send_legs(entry, stored, legs)


def _grow_managed(entry: Order, stored: ExitPlan, delta: int) -> bool:
    """Managed legs still armed grow in place (both, or neither)."""
    legs = list(entry.exit_legs.filter(status=Status.ARMED, gtt_id=""))
    if not legs or len(legs) > 2:
        return False
    with transaction.atomic():
        moved = Order.objects.filter(pk__in=[leg.pk for leg in legs], status=Status.ARMED).update(
            quantity=F("quantity") + delta, updated_at=timezone.now()
        )
        if moved != len(legs):
            transaction.set_rollback(True)
            return False
    for leg in legs:
        leg.refresh_from_db()
        log(
            leg,
            "edited",
            f"Grown to {leg.quantity}: {delta} more of #{entry.pk} filled",
            actor=ACTOR,
        )
    return True


def exit_filled(leg: Order) -> str:
    """An exit leg's order filled: the plan closes once what it protected is out."""
    entry = leg.protects
    if entry is None:
        return ""
    stored = ExitPlan.objects.filter(entry=entry).first()
    if stored is None or stored.state != State.ACTIVE:
        return ""
    exited = exited_quantity(entry)
    which = "Stop-loss" if leg.condition == stop_condition(entry) else "Target"
    text = (
        f"{which} exit #{leg.pk} filled {leg.filled_quantity} at {money(leg.average_price, entry)}."
    )
    if exited >= stored.protected_quantity and entry.status not in Order.LIVE:
        close_plan(stored, entry, f"{text} Position closed.", state=State.DONE)
    else:
        set_note(stored, text)
    return "exit"
