"""What a plan says and its life: the note on the Orders page, the "NOT protected"
warning, closing it, the per-plan lock, and how much its exits have taken out."""

from __future__ import annotations

from django.core.cache import cache
from django.utils import timezone

from orders.history import log
from orders.models import ExitPlan, Order
from sigmatrader.events import record_event
from sigmatrader.formatting import human_seconds
from sigmatrader.models import SystemEvent

from .policy import ACTOR, FILLED, Status, max_retries, money, retry_seconds, sweep_seconds


def levels_text(stored: ExitPlan) -> str:
    parts = []
    if stored.stop_level is not None:
        parts.append(f"stop {money(stored.stop_level, stored.entry)}")
    if stored.target_level is not None:
        parts.append(f"target {money(stored.target_level, stored.entry)}")
    return ", ".join(parts)


def set_note(stored: ExitPlan, text: str) -> None:
    ExitPlan.objects.filter(pk=stored.pk).update(note=text[:2000], updated_at=timezone.now())
    stored.note = text[:2000]


def not_protected(entry: Order, stored: ExitPlan, why: str, *, refused: bool = False) -> None:
    """The plan's note and a warning event say the entry is NOT protected, and why.

    Either the retry policy takes it from here (the note says how many retries are left),
    or (`refused`: levels on the wrong side of the fill) nothing is armed until the trader
    changes the plan; that is said once, since the sweep comes back every few seconds."""
    if refused:
        text = f"NOT protected — {why}: nothing was armed. Change the plan (Orders page) to arm it."
        if stored.note == text[:2000]:
            return
    else:
        retries_left = max(max_retries() - stored.retries, 0)
        then = (
            f"retried in {retry_seconds()} s "
            f"({retries_left} retr{'y' if retries_left == 1 else 'ies'} left)"
            if retries_left
            else "no retries left: protect it by hand"
        )
        text = f"NOT protected — {why}; {then}."
    if refused:
        log(entry, "status", f"Protection: {text}", actor=ACTOR)
    warn(entry, stored, text)


def plan_changed(*, entry: Order) -> None:
    """The trader changed a plan that was refused on a filled entry (NOT protected, nothing
    armed): its note no longer says that refusal as if nothing happened, but that the
    change is taken and armed by the next sweep (which then says how it went). One
    conditional UPDATE: a sweep that armed meanwhile keeps its own note."""
    text = f"Changed — arming at the next check (within {human_seconds(sweep_seconds())})."
    ExitPlan.objects.filter(
        entry=entry,
        state=ExitPlan.State.WAITING,
        protected_quantity=0,
        note__startswith="NOT protected",
    ).update(note=text, updated_at=timezone.now())


def warn(entry: Order, stored: ExitPlan, text: str) -> None:
    """The plan's note says `text`, and a warning event (the Events page, the toasts and
    notifications) says it of the entry."""
    set_note(stored, text)
    record_event(
        category=SystemEvent.Category.ORDER,
        level=SystemEvent.Level.WARNING,
        message=f"Order #{entry.pk} {entry.side} {entry.symbol} on {entry.account_name}: {text}",
        user=entry.user,
        details={"order_id": entry.pk, "exit_plan": stored.pk},
    )


def close_plan(stored: ExitPlan, entry: Order, text: str, *, state: str) -> None:
    if ExitPlan.objects.filter(pk=stored.pk, state__in=ExitPlan.OPEN_STATES).update(
        state=state, note=text[:2000], updated_at=timezone.now()
    ):
        stored.state, stored.note = state, text
        log(entry, "status", f"Protection: {text}", actor=ACTOR)


def lock_plan(plan_pk: int):
    """One protection step per plan at a time across processes (the DB claims stay the
    guarantee; this keeps two steps from interleaving their broker calls)."""
    return cache.add(f"protection:plan:{plan_pk}", 1, timeout=60)


def unlock_plan(plan_pk: int) -> None:
    cache.delete(f"protection:plan:{plan_pk}")


def exited_quantity(entry: Order) -> int:
    return sum(
        leg.filled_quantity
        for leg in entry.exit_legs.filter(status__in=(*FILLED, Status.CANCELLED))
    )
