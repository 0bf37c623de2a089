"""Queue rows formatted in Python: the queue may hold a thousand orders, and flat
values render several times faster than filters and attribute chains in a template."""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING

from sigmatrader.formatting import inr, inr_number

from .conditional import armed_text
from .exit_plans import LABELS, stop_condition
from .forms import RiskPolicyForm
from .models import ExitPlan, Order, RiskPolicy

if TYPE_CHECKING:
    from django.contrib.auth.models import User

ERROR_STATES = (Order.Status.FAILED, Order.Status.REJECTED)


def queue_row(order: Order, error: str = "", *, ltp=None) -> dict:
    """`ltp`: the order's price from the live cache (a `marketdata.live.Shown`), if any."""
    instrument = order.instrument
    cell = status_cell(order)
    shown = {cell["message"].strip()}
    # A reason once: an error or risk note that is the status message is not repeated.
    error = "" if error.strip() in shown else error
    repeated = (order.risk_note or "").strip() in shown | {error.strip()}
    risk_note = "" if repeated else order.risk_note
    return {
        "ltp": ltp,
        "live": live_state(order),
        "pk": str(order.pk),
        "editable": order.is_editable,
        "account": order.account_name,
        "symbol": instrument.trading_symbol if instrument else order.symbol,
        "exchange": order.exchange,
        "side": order.side,
        "side_class": f"side-{order.side.lower()}",
        "quantity": inr_number(order.quantity),
        "type": order.order_type
        + (" · AMO" if order.variety == Order.Variety.AMO else "")
        + (" · GTT" if order.is_gtt else ""),
        "product": order.product,
        "price": inr(order.price) or "—",
        "trigger": inr(order.trigger_price) or "—",
        **cell,
        "risk_note": risk_note,
        "error": error,
        "exits": _plan_summary(order),
    }


def _plan_summary(order: Order) -> str:
    """The exit plan a queued entry carries ("" for none); joined by the queue's selector."""
    try:
        return order.exit_plan.summary
    except ExitPlan.DoesNotExist:
        return ""


# A reason belongs to the state it explains: once an order is cancelled or executed, an
# earlier failure's message (e.g. a refused execute) is history, not its status.
QUIET_STATES = (Order.Status.CANCELLED, Order.Status.EXECUTED, Order.Status.EXPIRED)
# An armed GTT's message is what it waits for, not a reason: said in full, not folded.
FULL_MESSAGE_STATES = (Order.Status.ARMED,)


def status_cell(order: Order) -> dict:
    """What the status cell shows (queue and orders pages, and their live polls)."""
    message = "" if order.status in QUIET_STATES else order.status_message
    if order.status == Order.Status.ARMED and order.is_gtt and order.trigger_value is not None:
        # Said from the trigger as it is now: a trailed or edited stop moves it after the
        # message written at arming (which would show the first trigger beside the new).
        message = armed_text(order, managed=not order.gtt_id, gtt_id=order.gtt_id)
    return {
        "pk": str(order.pk),
        "status": order.status.lower(),
        "status_label": order.get_status_display(),
        "message": message,
        "message_class": "field-error" if order.status in ERROR_STATES else "muted",
        "message_limit": 200 if order.status in FULL_MESSAGE_STATES else 60,
    }


def live_state(order: Order) -> str:
    """What a page has of an order: version (changes whenever sync or an action writes
    the order) and which actions it offers; a poll sends only what differs."""
    if order.is_editable:
        actions = "q"  # queue actions
    elif order.status in LIVE_ACTIONS:
        actions = "l"  # cancel / modify at the broker
    else:
        actions = "n"
    version = _base36(int(order.updated_at.timestamp() * 1000))
    return f"{order.pk}.{version}.{actions}"


LIVE_ACTIONS = (Order.Status.SENT, Order.Status.OPEN, Order.Status.PARTIALLY_FILLED)


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    text = ""
    while True:
        number, rest = divmod(number, 36)
        text = digits[rest] + text
        if not number:
            return text


def risk_form_for(user: User) -> RiskPolicyForm:
    return RiskPolicyForm(
        instance=RiskPolicy.objects.filter(user=user, strategy__isnull=True).first()
    )


WHERE = {
    ExitPlan.Mode.NATIVE: "Held at the broker",
    ExitPlan.Mode.MANAGED: "Managed by SigmaTrader (needs the app running)",
}


def exit_cell(order: Order) -> dict | None:
    """What the Orders page shows of an entry's protection (None: no plan): the plan as
    asked, its state, the levels now (the stop as trailed), where the exits live, each
    leg, and the last word (a refusal is said here at once)."""
    try:
        stored = order.exit_plan
    except ExitPlan.DoesNotExist:
        return None
    legs = [leg for leg in order.exit_legs.all()]
    live = [leg for leg in legs if leg.status not in Order.FINAL and leg.status != "FAILED"]
    gtt_ids = sorted({leg.gtt_id for leg in live if leg.gtt_id})
    where = WHERE.get(ExitPlan.Mode(stored.mode), "") if stored.mode else ""
    if gtt_ids:
        where += " (GTT " + ", ".join(gtt_ids) + ")"
    armed = [leg for leg in live if leg.status == Order.Status.ARMED]
    stops = [leg for leg in armed if leg.condition == stop_condition(order.side)]
    cell = {
        "pk": order.pk,
        "summary": stored.summary,
        "state": stored.state,
        **plan_badge(stored, order),
        "open": stored.state in ExitPlan.OPEN_STATES,
        "waiting": stored.state == ExitPlan.State.WAITING,
        "where": where,
        "stop": inr(stored.stop_level) if stored.stop_level is not None else "",
        "target": inr(stored.target_level) if stored.target_level is not None else "",
        "protected": inr_number(sum(leg.quantity for leg in stops) if stops else 0),
        "note": stored.note,
        "alarm": stored.note.startswith("NOT protected"),
        "legs": [
            {
                "pk": leg.pk,
                "what": "Stop-loss" if leg.condition == stop_condition(order.side) else "Target",
                "trigger": inr(leg.trigger_value),
                "quantity": inr_number(leg.quantity),
                "status": leg.status.lower(),
                "status_label": leg.get_status_display(),
            }
            for leg in legs[-6:]
        ],
        "fields": exit_fields({name: getattr(stored, name) for name in EXIT_FIELDS}),
    }
    cell["version"] = exit_version(cell)
    return cell


def plan_badge(stored: ExitPlan, entry: Order) -> dict:
    """The plan's badge says the truth of the position: "Not protected" (alarm) while the
    note says so, whatever the state; "Not protected yet" for a filled entry whose exits
    are not armed yet (e.g. the plan just changed); the state otherwise."""
    if stored.note.startswith("NOT protected"):
        return {"state_label": "Not protected", "badge_class": "badge-error"}
    if (
        stored.state == ExitPlan.State.WAITING
        and not stored.protected_quantity
        and entry.filled_quantity
    ):
        return {"state_label": "Not protected yet", "badge_class": "badge-warning"}
    return {"state_label": stored.get_state_display(), "badge_class": ""}


def exit_version(cell: dict) -> str:
    """What the page has of an exit cell: a digest of what it shows (the stop as trailed,
    the state, the legs, the note), so the live poll sends a cell only when it changed."""
    shown = json.dumps(cell, sort_keys=True, default=str).encode()
    return hashlib.blake2b(shown, digest_size=6).hexdigest()


EXIT_FIELDS = ("stop_loss", "target", "trailing_stop", "trail_activation")
EXIT_PLACEHOLDERS = {
    "stop_loss": "price, 2% or 15pts",
    "target": "price, 3% or 25pts",
    "trailing_stop": "1% or 10pts",
    "trail_activation": "price, 1% or 20pts",
}


def exit_fields(values: dict, errors: dict | None = None) -> list[dict]:
    """The exit cell's edit form: each part with its value and, when refused, its error."""
    return [
        {
            "name": name,
            "label": LABELS[name],
            "value": values.get(name) or "",
            "placeholder": EXIT_PLACEHOLDERS[name],
            "error": (errors or {}).get(name, ""),
        }
        for name in EXIT_FIELDS
    ]
