"""Execute or cancel several queued orders at once, and say honestly what happened.

Each order goes through the same one-order path as its own button (`execute`,
`actions.cancel`: claimed atomically, so sent at most once). The result is one
outcome per order, counted by the state the order ended in: an order whose
execute came back REJECTED or FAILED was not "executed".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sigmatrader.params import object_id

from . import actions
from .execution import NotExecutable, execute
from .models import Order

if TYPE_CHECKING:
    from django.contrib.auth.models import User

Status = Order.Status
MAX_ORDERS = 200
ACTIONS = {"execute": "Execute", "cancel": "Cancel"}

# How an outcome is worded and counted.
SENT, CANCELLED, FAILED, UNCONFIRMED, SKIPPED = (
    "sent",
    "cancelled",
    "failed",
    "unconfirmed",
    "skipped",
)
WORDS = {
    SENT: "sent",
    CANCELLED: "cancelled",
    FAILED: "failed",
    UNCONFIRMED: "not confirmed yet (sync will tell)",
    SKIPPED: "skipped",
}


class BulkRefused(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Outcome:
    order_id: int
    result: str  # SENT / CANCELLED / FAILED / UNCONFIRMED / SKIPPED
    message: str

    @property
    def line(self) -> str:
        word = WORDS[self.result]
        # A message that only repeats the result ("sent") is not said twice.
        same = self.message.strip().rstrip(".").lower() in ("", word.lower())
        return f"Order #{self.order_id}: {word}" + ("" if same else f" — {self.message}")


@dataclass
class BulkResult:
    action: str
    outcomes: list[Outcome] = field(default_factory=list)

    def count(self, result: str) -> int:
        return sum(1 for outcome in self.outcomes if outcome.result == result)

    @property
    def summary(self) -> str:
        parts = [
            f"{self.count(result)} {WORDS[result]}"
            for result in (SENT, CANCELLED, UNCONFIRMED, FAILED, SKIPPED)
            if self.count(result)
        ]
        return f"{ACTIONS[self.action]} selected ({len(self.outcomes)}): " + ", ".join(parts) + "."

    @property
    def all_good(self) -> bool:
        return all(outcome.result in (SENT, CANCELLED) for outcome in self.outcomes)


def selected_ids(values) -> list[int]:
    """The order ids a form selected: valid ids only, each once, in order."""
    ids: list[int] = []
    for value in values:
        pk = object_id(value)
        if pk is not None and pk not in ids:
            ids.append(pk)
    return ids


def run(*, user: User, action: str, order_ids: list[str], actor: str) -> BulkResult:
    """Apply `action` to each selected order of `user`; refuse an empty or unknown request."""
    if action not in ACTIONS:
        raise BulkRefused("Choose Execute selected or Cancel selected.")
    ids = selected_ids(order_ids)
    if not ids:
        raise BulkRefused("No orders selected: tick the orders first, then choose the action.")
    if len(ids) > MAX_ORDERS:
        raise BulkRefused(f"Select at most {MAX_ORDERS} orders at once.")
    orders = {
        order.pk: order
        for order in Order.objects.filter(user=user, pk__in=ids).select_related(
            "account", "instrument"
        )
    }
    result = BulkResult(action=action)
    for pk in ids:
        order = orders.get(pk)
        if order is None:  # another user's id looks absent, like a deleted order
            result.outcomes.append(Outcome(pk, SKIPPED, "no such order"))
        elif action == "execute":
            result.outcomes.append(_execute(order, actor))
        else:
            result.outcomes.append(_cancel(order, actor))
    return result


def _execute(order: Order, actor: str) -> Outcome:
    if not order.is_editable:
        return Outcome(order.pk, SKIPPED, f"already {order.get_status_display().lower()}")
    try:
        order = execute(order=order, actor=actor)
    except NotExecutable as exc:
        return Outcome(order.pk, SKIPPED, exc.message)
    if order.status in (Status.REJECTED, Status.FAILED):
        return Outcome(order.pk, FAILED, order.status_message or order.get_status_display())
    if order.status == Status.UNKNOWN:
        return Outcome(order.pk, UNCONFIRMED, order.status_message)
    return Outcome(order.pk, SENT, order.get_status_display().lower())


def _cancel(order: Order, actor: str) -> Outcome:
    try:
        order = actions.cancel(order=order, actor=actor)
    except actions.ActionRefused as exc:
        return Outcome(order.pk, FAILED, exc.message)
    if order.status == Status.CANCELLED:
        return Outcome(order.pk, CANCELLED, "")
    return Outcome(order.pk, SENT, "cancel sent to the broker; the sync confirms it")
