"""An exit plan's legs: made as GTT orders protecting the entry, sent through the
execution service (one claim each), and cancelled."""

from __future__ import annotations

from decimal import Decimal

from django.utils import timezone

from brokers.base import BrokerError
from orders import exit_plans
from orders.conditional import cancel_armed, default_expiry, link_oco
from orders.execution import NotExecutable, execute
from orders.history import log
from orders.models import ExitPlan, Order

from .plan_state import levels_text, not_protected, set_note
from .policy import (
    ACTOR,
    Status,
    mis_expiry,
    money,
    native_kind,
    stop_condition,
    stop_limit_price,
    target_condition,
)


def make_leg(
    entry: Order, *, which: str, level: Decimal, quantity: int, native: bool, note: str
) -> Order:
    stop = which == "stop"
    if native:
        order_type = Order.OrderType.LIMIT
        price = stop_limit_price(entry, level) if stop else level
    else:
        order_type, price = Order.OrderType.MARKET, None
    expires = mis_expiry() if entry.product == Order.Product.MIS else default_expiry(365)
    leg = Order.objects.create(
        user_id=entry.user_id,
        account=entry.account,
        account_name=entry.account_name,
        source=Order.Source.PROTECTION,
        strategy_id=entry.strategy_id,
        instrument=entry.instrument,
        symbol=entry.symbol,
        exchange=entry.exchange,
        side=exit_plans.exit_side(entry.side),
        quantity=quantity,
        order_type=order_type,
        product=entry.product,
        price=price,
        is_gtt=True,
        condition=stop_condition(entry) if stop else target_condition(entry),
        trigger_value=level,
        expires_at=expires,
        protects=entry,
    )
    what = "Stop-loss" if stop else "Target"
    log(
        leg,
        "created",
        f"{what} exit of order #{entry.pk} at {money(level, entry)} ({note})",
        actor=ACTOR,
    )
    return leg


def create_pair(entry: Order, stored: ExitPlan, quantity: int, *, note: str) -> list[Order]:
    """Unsent legs for `quantity` at the plan's current levels (linked OCO when two)."""
    levels: list[tuple[str, Decimal]] = [
        (which, level)
        for which, level in (("stop", stored.stop_level), ("target", stored.target_level))
        if level is not None
    ]
    native = native_kind(entry, legs=len(levels)) is not None
    legs = [
        make_leg(entry, which=which, level=level, quantity=quantity, native=native, note=note)
        for which, level in levels
    ]
    if len(legs) == 2:
        link_oco(legs[0], legs[1])
    mode = ExitPlan.Mode.NATIVE if native else ExitPlan.Mode.MANAGED
    if stored.mode != mode:
        ExitPlan.objects.filter(pk=stored.pk).update(mode=mode)
        stored.mode = mode
    return legs


def send_legs(entry: Order, stored: ExitPlan, legs: list[Order]) -> str:
    """Arm the legs through the execution service (one claim each). Returns the outcome."""
    if not legs:
        return ""
    first = legs[0]
    try:
        first = execute(order=first, actor=ACTOR)
    except NotExecutable as exc:  # another worker claimed it: its outcome stands
        return exc.message
    for leg in legs[1:]:
        leg.refresh_from_db()
    if first.status == Status.ARMED:
        where = (
            f"held at {entry.account_name} as GTT {first.gtt_id}"
            if first.gtt_id
            else "managed by SigmaTrader (needs the app running)"
        )
        set_note(stored, f"Armed for {first.quantity}: {levels_text(stored)}; {where}.")
        return Status.ARMED
    if first.status == Status.UNKNOWN:
        set_note(stored, f"Arming had no clear answer: {first.status_message}")
        return Status.UNKNOWN
    # FAILED or REJECTED: visible at once; the repair retries by its policy.
    reason = first.status_message or first.get_status_display()
    for leg in legs[1:]:  # an OCO sibling left waiting is withdrawn with it
        if Order.objects.filter(pk=leg.pk, status=Status.WAITING).update(
            status=Status.CANCELLED,
            status_message="Its pair was not armed.",
            updated_at=timezone.now(),
        ):
            log(leg, "status", "Not armed: its pair was not armed", actor=ACTOR, before="WAITING")
    not_protected(entry, stored, f"exit not armed: {reason}")
    return first.status


def cancel_legs(entry: Order, *, why: str) -> list[str]:
    """Disarm every armed leg of `entry` (native GTTs at the broker first). Returns problems."""
    problems = []
    seen: set[int] = set()
    for leg in entry.exit_legs.filter(status=Status.ARMED).select_related("account"):
        if leg.pk in seen:
            continue
        seen.update({leg.pk, leg.oco_sibling_id or 0})
        try:
            cancel_armed(leg, actor=ACTOR)
        except BrokerError as exc:
            problems.append(f"#{leg.pk}: {exc.message}")
            continue
        Order.objects.filter(pk__in=[leg.pk, leg.oco_sibling_id or 0]).filter(
            status=Status.CANCELLED, status_message="GTT cancelled."
        ).update(status_message=why[:2000])
    return problems
