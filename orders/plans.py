"""An entry's exit plan, stored with it (what the trader asked; `protection/` arms it).

Writes only: set, replace or remove the plan of an entry while its legs are not
armed yet. Once armed, changing or cancelling the legs is protection's (it
owns the legs' life cycle); this module refuses, saying so.
"""

from __future__ import annotations

from django.db import transaction

from .exit_plans import Plan
from .history import log
from .models import ExitPlan, Order


class PlanLocked(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def attach(*, entry: Order, plan: Plan, actor: str) -> ExitPlan:
    """Store `plan` with a new entry (create_order calls this)."""
    if entry.source == Order.Source.PROTECTION:
        raise PlanLocked("A protective exit has no exit plan of its own.")
    stored = ExitPlan.objects.create(entry=entry, **plan.texts)
    log(entry, "edited", f"Exit plan: {plan.summary} (armed when it fills)", actor=actor)
    return stored


@transaction.atomic
def replace(*, entry: Order, plan: Plan | None, actor: str) -> ExitPlan | None:
    """Set, change or remove (None) the plan of an entry whose legs are not armed yet.

    Raises PlanLocked when the plan is already protecting (its legs are armed)."""
    stored = ExitPlan.objects.select_for_update().filter(entry=entry).first()
    if stored is not None and (stored.state != ExitPlan.State.WAITING or stored.protected_quantity):
        raise PlanLocked(
            f"Order #{entry.pk}'s exit plan is {stored.get_state_display().lower()}: "
            "change it from the Orders page."
        )
    if plan is None:
        if stored is not None:
            stored.delete()
            log(entry, "edited", "Exit plan removed", actor=actor)
        return None
    if stored is None:
        return attach(entry=entry, plan=plan, actor=actor)
    if all(getattr(stored, name) == text for name, text in plan.texts.items()):
        return stored
    for name, text in plan.texts.items():
        setattr(stored, name, text)
    stored.save()
    log(entry, "edited", f"Exit plan: {plan.summary} (armed when it fills)", actor=actor)
    return stored


def stored_texts(entry: Order) -> dict[str, str]:
    """The entry's plan as the forms show it ({} without one)."""
    stored = ExitPlan.objects.filter(entry=entry).first()
    if stored is None:
        return {}
    return {
        "stop_loss": stored.stop_loss,
        "target": stored.target,
        "trailing_stop": stored.trailing_stop,
        "trail_activation": stored.trail_activation,
    }
