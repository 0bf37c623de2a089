"""The beat's sweep: fills the signal missed, finished plans closed, and the retry
policy (a plan left without an armed leg re-armed, bounded and spaced)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from orders import exit_plans
from orders.history import log
from orders.models import ExitPlan, Order
from orders.sync import NOT_RECEIVED
from portfolio.trading import WITHDRAWN_FOR_SQUARE_OFF

from .arming import arm_entry
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
from .policy import ACTOR, COVERING, SENT_EXIT, State, Status, lot_of, max_retries, retry_seconds

logger = logging.getLogger(__name__)


def sweep(now: datetime | None = None) -> dict:
    """Beat: arm fills the signal missed, close finished plans, re-arm by the retry policy."""
    now = now or timezone.now()
    armed = closed = retried = 0
    plans = ExitPlan.objects.filter(state__in=ExitPlan.OPEN_STATES).select_related(
        "entry", "entry__account", "entry__instrument"
    )
    for stored in plans:
        entry = stored.entry
        try:
            if (
                entry.filled_quantity
                and exit_plans.protectable(entry.filled_quantity, lot_of(entry))
                > stored.protected_quantity
            ):
                if arm_entry(entry=entry) == Status.ARMED:
                    armed += 1
                continue
            if stored.state == State.WAITING:
                if entry.status in (Status.CANCELLED, Status.REJECTED, Status.EXPIRED):
                    close_plan(
                        stored,
                        entry,
                        f"The entry was {entry.status.lower()} unfilled.",
                        state=State.CANCELLED,
                    )
                    closed += 1
                continue
            outcome = _settle(entry, stored, now=now)
            closed += outcome == "closed"
            retried += outcome == "retried"
        except Exception:
            logger.exception("protection sweep: plan %s", stored.pk)
    return {"armed": armed, "closed": closed, "retried": retried}


def _withdraw_failed(legs: list[Order]) -> bool:
    """Before a retry: the FAILED legs (executable from the queue) are withdrawn in one
    UPDATE, so a trader's Execute and the retry can never both protect the same shares.
    False when one was claimed meanwhile (then it is the protection)."""
    failed = [leg for leg in legs if leg.status == Status.FAILED and not _may_surface(leg)]
    if not failed:
        return True
    why = "Superseded by a retry of the protection."
    with transaction.atomic():
        withdrawn = Order.objects.filter(
            pk__in=[leg.pk for leg in failed], status=Status.FAILED
        ).update(status=Status.CANCELLED, status_message=why, updated_at=timezone.now())
        if withdrawn != len(failed):
            transaction.set_rollback(True)
            return False
    for leg in failed:
        leg.status = Status.CANCELLED
        log(leg, "status", why, actor=ACTOR, before=Status.FAILED)
    return True


def _may_surface(leg: Order) -> bool:
    """A leg whose placement had no clear answer and that the sync marked "not received":
    the broker may still show it (orders/sync.py watches it), so it is never re-sent."""
    return leg.status == Status.FAILED and leg.status_message == NOT_RECEIVED


def _settle(entry: Order, stored: ExitPlan, *, now: datetime) -> str:
    legs = list(entry.exit_legs.all())
    armed = [leg for leg in legs if leg.status == Status.ARMED]
    if armed and stored.note.startswith("NOT protected"):  # armed again (e.g. from the queue)
        set_note(stored, f"Armed for {armed[0].quantity}: {levels_text(stored)}.")
    if any(leg.status in (*COVERING, *SENT_EXIT) or _may_surface(leg) for leg in legs):
        return ""
    exited = exited_quantity(entry)
    if exited >= stored.protected_quantity and entry.status not in Order.LIVE:
        close_plan(stored, entry, "Exited in full.", state=State.DONE)
        return "closed"
    # The newest leg and its OCO sibling: the last attempt at protecting what is open.
    last = max(legs, key=lambda leg: leg.pk, default=None)
    attempt = [leg for leg in legs if last and leg.pk in (last.pk, last.oco_sibling_id)]
    # The legs were reduced (a manual exit, a sold holding) and then fired: the last pair's
    # exit filled all it carried, so what was still protected has exited. (Not "cancelled
    # outside the plan": its sibling was cancelled by the OCO.)
    fired = [
        leg
        for leg in attempt
        if leg.status == Status.EXECUTED and leg.filled_quantity >= leg.quantity > 0
    ]
    if fired and entry.status not in Order.LIVE:
        close_plan(
            stored,
            entry,
            f"Exited in full: exit #{fired[0].pk} closed the {fired[0].filled_quantity} still "
            "protected (the rest had left the position outside the plan).",
            state=State.DONE,
        )
        return "closed"
    if (
        legs
        and all(leg.status == Status.EXPIRED for leg in legs if leg.filled_quantity == 0)
        and (entry.product == Order.Product.MIS)
    ):
        close_plan(
            stored,
            entry,
            "MIS: intraday protection ended at the square-off time.",
            state=State.DONE,
        )
        return "closed"
    # Open quantity without an armed leg. Retried only when the last leg was refused
    # (REJECTED / FAILED: a definite "not placed"); legs cancelled or expired otherwise
    # (the trader, the broker) end the plan, said so.
    if last is not None and last.status_message == WITHDRAWN_FOR_SQUARE_OFF:
        return _after_square_off(entry, stored, last, exited=exited, now=now)
    if last is not None and not any(
        leg.status in (Status.REJECTED, Status.FAILED) for leg in attempt
    ):
        close_plan(
            stored,
            entry,
            f"Exits {last.get_status_display().lower()} outside the plan: no longer protecting.",
            state=State.CANCELLED,
        )
        return "closed"
    if stored.retries >= max_retries():
        if "no retries left" not in stored.note:
            not_protected(entry, stored, "every retry was refused")
        return ""
    if now - stored.updated_at < timedelta(seconds=retry_seconds()):
        return ""
    if not ExitPlan.objects.filter(pk=stored.pk, retries=stored.retries, state=State.ACTIVE).update(
        retries=F("retries") + 1, updated_at=now
    ):
        return ""
    stored.refresh_from_db()
    remaining = stored.protected_quantity - exited
    quantity = exit_plans.protectable(remaining, lot_of(entry))
    if quantity <= 0:
        return ""
    if not lock_plan(stored.pk):
        return ""
    try:
        if not _withdraw_failed(legs):
            return ""  # the trader sent a failed leg again meanwhile: that one protects
        log(
            entry,
            "status",
            f"Protection: re-arming {quantity} (retry {stored.retries} of {max_retries()})",
            actor=ACTOR,
        )
        fresh = create_pair(entry, stored, quantity, note=f"retry {stored.retries}")
        send_legs(entry, stored, fresh)
    finally:
        unlock_plan(stored.pk)
    return "retried"


# How long a withdrawal waits for its square-off order to be written (the square-off
# writes it right after withdrawing; none by then means it never was).
SQUARE_OFF_WRITTEN_WITHIN = timedelta(minutes=2)


def _after_square_off(
    entry: Order, stored: ExitPlan, withdrawn: Order, *, exited: int, now: datetime
) -> str:
    """The legs were withdrawn for a square-off of the whole position (portfolio.
    trading): the plan follows that order. Filled: the plan is done, said so. Still on
    its way: wait. Refused, failed or cancelled (or never written): the position is
    still open, so its protection is armed again — never left unprotected."""
    square_off = (
        Order.objects.filter(
            account_id=entry.account_id,
            product=entry.product,
            side=exit_plans.exit_side(entry.side),
            protects__isnull=True,
            created_at__gte=withdrawn.updated_at - timedelta(seconds=5),
        )
        .filter(
            Q(instrument_id=entry.instrument_id) if entry.instrument_id else Q(symbol=entry.symbol)
        )
        .order_by("pk")
        .first()
    )
    if square_off is None and now - withdrawn.updated_at < SQUARE_OFF_WRITTEN_WITHIN:
        return ""
    if square_off is not None and square_off.status in (*Order.LIVE, Status.WAITING):
        return ""
    if square_off is not None and square_off.status == Status.EXECUTED:
        close_plan(
            stored,
            entry,
            f"Squared off by order #{square_off.pk}: its exits were withdrawn first.",
            state=State.DONE,
        )
        return "closed"
    quantity = exit_plans.protectable(stored.protected_quantity - exited, lot_of(entry))
    if quantity <= 0 or not lock_plan(stored.pk):
        return ""
    try:
        what = (
            f"order #{square_off.pk} {square_off.get_status_display().lower()}"
            if (square_off is not None)
            else "no order was sent"
        )
        log(
            entry,
            "status",
            f"Protection: the square-off was not done ({what}): re-arming {quantity}",
            actor=ACTOR,
        )
        fresh = create_pair(entry, stored, quantity, note="after a square-off not done")
        send_legs(entry, stored, fresh)
    finally:
        unlock_plan(stored.pk)
    return "retried"
