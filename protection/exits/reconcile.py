"""Reconciliation with the portfolio (after each portfolio sync): what is still open
caps the armed legs; a manual exit, square-off or sale shrinks or cancels them."""

from __future__ import annotations

import logging

from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from marketdata import clock
from orders import exit_plans
from orders.history import log
from orders.models import ExitPlan, Order
from portfolio.trading import WITHDRAWN_FOR_SQUARE_OFF

from .legs import cancel_legs, create_pair, send_legs
from .plan_state import close_plan, lock_plan, set_note, unlock_plan
from .policy import ACTOR, COVERING, SENT_EXIT, State, Status, is_long, lot_of, stop_condition

logger = logging.getLogger(__name__)


def open_quantity(entry: Order, positions, holdings, *, filled_today: bool = True) -> int:
    """What is still open of the entry's instrument in its direction, for its product.

    A delivery (CNC) long is counted as the exchange nets it: the day's sells square the
    day's buys first. So an entry filled today owns only the day's net CNC position,
    never older holdings (a stop must not sell shares it was not set on); one filled on
    an earlier day owns the holdings, less what the day sold beyond its buys."""
    names = {entry.symbol.split(":", 1)[-1]}
    if entry.instrument is not None:
        names |= {entry.instrument.canonical_symbol, entry.instrument.trading_symbol}
    net = sum(
        p.quantity
        for p in positions
        if p.symbol in names and p.exchange == entry.exchange and p.product == entry.product
    )
    if entry.product == Order.Product.CNC and is_long(entry):
        if filled_today:
            return max(net, 0)
        held = sum(
            h.quantity for h in holdings if h.symbol in names and h.exchange == entry.exchange
        )
        return max(held + min(net, 0), 0)
    return max(net if is_long(entry) else -net, 0)


def filled_today(stored: ExitPlan) -> bool:
    """The plan's entry filled (its protection last grew) on today's India date."""
    return clock.india_today(stored.armed_at or stored.created_at) == clock.india_today()


def reconcile_account(account_id: int) -> list[str]:
    """After a portfolio sync: cap each active plan's armed legs by what is still open.

    Plans are served oldest first from the open quantity; a plan with none left has its
    legs cancelled and closes ("closed outside the plan"); with less, its legs shrink
    (managed in place, native cancelled and re-armed). Positions read before the legs
    were armed are not trusted (the fill may not be in them yet)."""
    from portfolio.models import Holding, PortfolioSync, Position

    synced = (
        PortfolioSync.objects.filter(account_id=account_id)
        .values_list("synced_at", flat=True)
        .first()
    )
    if synced is None:
        return []
    plans = list(
        ExitPlan.objects.filter(entry__account_id=account_id, state=State.ACTIVE)
        .select_related("entry", "entry__account", "entry__instrument")
        .order_by("created_at", "pk")
    )
    if not plans:
        return []
    positions = list(Position.objects.filter(account_id=account_id))
    holdings = list(Holding.objects.filter(account_id=account_id))
    left: dict[tuple, int] = {}
    changes = []
    for stored in plans:
        entry = stored.entry
        legs = list(entry.exit_legs.filter(status__in=COVERING))
        if any(leg.status != Status.ARMED for leg in legs):
            continue  # something in flight: the next sync decides
        if entry.exit_legs.filter(status__in=SENT_EXIT).exists():
            continue  # an exit is on its way out: its fill will close the plan
        # Only positions read after the protected quantity last grew (and after these
        # legs were made: a replacement follows a read of its own) are trusted.
        armed_at = max([leg.created_at for leg in legs] + [stored.armed_at or stored.created_at])
        if synced <= armed_at:
            continue
        today = filled_today(stored)
        key = (entry.exchange, entry.symbol, entry.product, entry.side, today)
        if key not in left:
            left[key] = open_quantity(entry, positions, holdings, filled_today=today)
        if not legs:
            if left[key] <= 0 and entry.status not in Order.LIVE:
                # No armed exit and nothing open (squared off, its exits withdrawn first).
                last = entry.exit_legs.order_by("-pk").first()
                squared = last is not None and last.status_message == WITHDRAWN_FOR_SQUARE_OFF
                text = (
                    "Squared off: its exits were withdrawn first."
                    if squared
                    else "Position closed outside the plan."
                )
                close_plan(stored, entry, text, state=State.DONE)
                changes.append(f"#{entry.pk}: closed")
            continue
        covered = _covered(entry, legs)
        allowed = exit_plans.protectable(min(covered, left[key]), lot_of(entry))
        left[key] -= allowed
        if allowed >= covered:
            continue
        changes.append(_shrink(entry, stored, legs, covered=covered, allowed=allowed))
    return changes


def _covered(entry: Order, legs: list[Order]) -> int:
    stops = [leg for leg in legs if leg.condition == stop_condition(entry)]
    return sum(leg.quantity for leg in (stops or legs))


def _shrink(
    entry: Order, stored: ExitPlan, legs: list[Order], *, covered: int, allowed: int
) -> str:
    if not lock_plan(stored.pk):
        return f"#{entry.pk}: busy"
    try:
        if allowed <= 0:
            why = (
                "Position closed outside the plan (manual exit, square-off or sold): "
                "exits cancelled."
            )
            problems = cancel_legs(entry, why=why)
            if problems:
                set_note(stored, "Could not cancel every exit: " + "; ".join(problems))
                return f"#{entry.pk}: " + "; ".join(problems)
            close_plan(stored, entry, why, state=State.DONE)
            return f"#{entry.pk}: closed"
        text = f"Only {allowed} of {covered} still open: exits reduced to {allowed}."
        if all(not leg.gtt_id for leg in legs) and len(legs) <= 2:
            with transaction.atomic():
                moved = Order.objects.filter(
                    pk__in=[leg.pk for leg in legs], status=Status.ARMED
                ).update(quantity=allowed, updated_at=timezone.now())
                if moved != len(legs):
                    transaction.set_rollback(True)
                    return f"#{entry.pk}: legs moved meanwhile"
            for leg in legs:
                log(leg, "edited", text, actor=ACTOR)
            set_note(stored, text)
            log(entry, "status", f"Protection: {text}", actor=ACTOR)
            return f"#{entry.pk}: reduced to {allowed}"
        problems = cancel_legs(entry, why=text)
        if problems:
            return f"#{entry.pk}: " + "; ".join(problems)
        fresh = create_pair(entry, stored, allowed, note="reduced to what is open")
        send_legs(entry, stored, fresh)
        log(entry, "status", f"Protection: {text}", actor=ACTOR)
        return f"#{entry.pk}: re-armed for {allowed}"
    finally:
        unlock_plan(stored.pk)


def on_portfolio_synced(sender, account_id, **kwargs) -> None:
    try:
        reconcile_account(account_id)
    except Exception:
        logger.exception("protection: reconciliation failed for account %s", account_id)


# --- A manual exit seen by the order sync -----------------------------------------------------

APPLIED = "Protection: counted against the exits of"  # the manual exit's history says it


def manual_exit_filled(order: Order) -> str:
    """Order sync saw `order` fill: when it is not a leg but sells (buys, for a short) the
    same account's instrument and product as active plans' entries, their legs shrink at
    once instead of at the next portfolio sync (the same `_shrink`). Exactly once: what of
    the order's fill was already counted is in its history; only the rest counts, newest
    plan first (the portfolio reconciliation serves the oldest first). With a portfolio
    read after every plan armed, the shrink goes no further than that read allows (shares
    held outside the plans are sold first: the next reconciliation confirms it)."""
    if order.protects_id or order.account_id is None or not order.filled_quantity:
        return ""
    if order.source == Order.Source.PROTECTION:
        return ""
    entry_side = exit_plans.exit_side(order.side)  # the side of the entries it closes
    plans = list(
        ExitPlan.objects.filter(
            entry__account_id=order.account_id,
            entry__side=entry_side,
            entry__product=order.product,
            entry__exchange=order.exchange,
            state=State.ACTIVE,
        )
        .filter(
            Q(entry__instrument_id=order.instrument_id)
            if order.instrument_id
            else Q(entry__symbol=order.symbol)
        )
        .exclude(entry=order)
        .select_related("entry", "entry__account", "entry__instrument")
        .order_by("-created_at", "-pk")
    )
    if not plans:
        return ""
    if not cache.add(f"protection:manual-exit:{order.pk}", 1, timeout=60):
        return "busy"
    try:
        counted = sum(
            int(details.get("quantity", 0))
            for details in order.events.filter(message__startswith=APPLIED).values_list(
                "details", flat=True
            )
            if isinstance(details, dict)
        )
        fresh = order.filled_quantity - counted
        if fresh <= 0:
            return ""
        reduce = min(fresh, _beyond_what_is_held(order, plans))
        changes = []
        for stored in plans:
            if reduce <= 0:
                break
            entry = stored.entry
            legs = list(entry.exit_legs.filter(status__in=COVERING))
            if not legs or any(leg.status != Status.ARMED for leg in legs):
                continue  # nothing armed, or something in flight: the portfolio sync decides
            covered = _covered(entry, legs)
            allowed = exit_plans.protectable(max(covered - reduce, 0), lot_of(entry))
            reduce -= covered - allowed
            changes.append(_shrink(entry, stored, legs, covered=covered, allowed=allowed))
        log(
            order,
            "status",
            f"{APPLIED} {', '.join(f'#{s.entry_id}' for s in plans)}: {fresh} more filled"
            + (f" ({'; '.join(changes)})" if changes else " (nothing to reduce)"),
            actor=ACTOR,
            details={"quantity": fresh},
        )
        return "; ".join(changes)
    finally:
        cache.delete(f"protection:manual-exit:{order.pk}")


def _beyond_what_is_held(order: Order, plans: list[ExitPlan]) -> int:
    """How far the legs may shrink: all of the fill, unless a portfolio read after every
    plan armed shows more open than the legs cover (less the exits sent since)."""
    from portfolio.models import Holding, PortfolioSync, Position

    unlimited = 1 << 62
    synced = (
        PortfolioSync.objects.filter(account_id=order.account_id)
        .values_list("synced_at", flat=True)
        .first()
    )
    armed = [
        max([s.armed_at or s.created_at] + [leg.created_at for leg in s.entry.exit_legs.all()])
        for s in plans
    ]
    if synced is None or synced <= max(armed):
        return unlimited
    positions = list(Position.objects.filter(account_id=order.account_id))
    holdings = list(Holding.objects.filter(account_id=order.account_id))
    held = open_quantity(plans[0].entry, positions, holdings, filled_today=filled_today(plans[0]))
    sold_since = sum(
        Order.objects.filter(
            account_id=order.account_id,
            side=order.side,
            product=order.product,
            exchange=order.exchange,
            created_at__gt=synced,
            protects__isnull=True,
        )
        .filter(
            Q(instrument_id=order.instrument_id) if order.instrument_id else Q(symbol=order.symbol)
        )
        .values_list("filled_quantity", flat=True)
    )
    covered = 0
    for stored in plans:
        legs = list(stored.entry.exit_legs.filter(status__in=COVERING))
        covered += _covered(stored.entry, legs) if legs else 0
    return max(covered - max(held - sold_since, 0), 0)
