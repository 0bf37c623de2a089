"""Writes behind the Queue page, and its prices and previews (the reads of its rows are
in orders/selectors.py; views stay thin)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from brokers.base import BrokerError
from brokers.connections import calling
from brokers.models import BrokerAccount
from marketdata import live
from marketdata.quotes import ltp
from marketdata.resolution import resolve

from . import funds_check
from .broker_request import broker_request, uses_price
from .execution import canonical_name
from .history import log
from .models import ACCOUNT_GONE, Order
from .validation import validate


@transaction.atomic
def update_waiting(
    *, order: Order, account: BrokerAccount, symbol: str, fields: dict, actor: str
) -> Order:
    """Edit every field of an order that has not been sent.

    Raises SymbolNotFound or InvalidOrder (naming the field) and changes nothing
    when the edited order would be refused at execution."""
    locked = Order.objects.select_for_update().get(pk=order.pk)
    if not locked.is_editable:
        raise ValueError(
            f"Order #{order.pk} is {locked.get_status_display().lower()}: "
            "only waiting or failed orders can be edited."
        )
    changes: dict[str, Any] = {}
    if account.pk != locked.account_id or symbol.strip() != locked.symbol:
        instrument = resolve(broker=account.broker, symbol=symbol)
        changes.update(
            account=account,
            account_name=account.display_name,
            instrument=instrument,
            symbol=canonical_name(instrument),
            exchange=instrument.exchange,
        )
    changes.update(fields)
    before = {name: str(getattr(locked, name)) for name in changes}
    for name, value in changes.items():
        setattr(locked, name, value)
    validate(locked)  # the rules execution applies, now: the form shows what is wrong
    if locked.status == Order.Status.FAILED:
        # Back to waiting: the failure's reason (and a risk block) no longer describe it;
        # execution checks the edited order afresh.
        locked.status, locked.status_message = Order.Status.WAITING, ""
        if locked.risk_note.startswith("Blocked"):
            locked.risk_note = ""
    locked.updated_at = timezone.now()
    locked.save()
    diff = {
        k: [before[k], str(getattr(locked, k))]
        for k in changes
        if before[k] != str(getattr(locked, k))
    }
    log(locked, "edited", "Edited: " + (", ".join(diff) or "no change"), actor=actor, details=diff)
    return locked


def prices_for(orders: list[Order]) -> dict[int, live.Shown]:
    """{order pk: marketdata.live.Shown} for the orders' instruments, from the shared
    live cache only (a background task fills it): rendering a page never calls a broker."""
    shown = live.shown_for({o.instrument for o in orders if o.instrument_id})
    return {o.pk: shown[o.instrument_id] for o in orders if o.instrument_id in shown}


def preview(order: Order) -> dict:
    """Margin and charges where the account's broker offers them; what it lacks, named."""
    account = order.account
    if account is None:  # deleted since the order was queued: nothing to ask, said so
        return {"error": ACCOUNT_GONE, "label": order.account_name, "funds_short": ""}
    caps = account.adapter_class.capabilities
    result: dict[str, Any] = {
        "margin": None,
        "charges": None,
        "error": "",
        "label": account.broker_label,
        "margin_offered": caps.margin_preview,
        "charges_offered": caps.charges_preview,
        # The price a MARKET (SL-M) order is previewed at, and what it is.
        "estimate": None,
        "estimate_basis": "",
    }
    # Above the cash the account last reported (stored by sync): said, never blocked.
    cached = prices_for([order]).get(order.pk) if not uses_price(order.order_type) else None
    result["funds_short"] = funds_check.shortfall(
        order, estimate=cached.price if cached is not None else None
    )
    if not (caps.margin_preview or caps.charges_preview) or not account.is_connected:
        return result
    instrument = order.instrument
    if instrument is None:  # never resolved (or its row since removed): nothing to price
        result["error"] = f"{order.symbol} is not resolved to an instrument: no preview."
        return result
    estimate = None
    if order.order_type == Order.OrderType.SL_M and order.trigger_price:
        estimate, result["estimate_basis"] = order.trigger_price, "trigger price"
    elif not uses_price(order.order_type):
        # A MARKET order has no price: estimate at the last traded price (shared
        # quote cache), so margin and charges are not computed on a price of 0. The
        # preview is the trader's own click, so with nothing cached it asks the broker.
        shown = prices_for([order]).get(order.pk)
        if shown is not None:
            estimate = shown.price
        else:
            try:
                estimate = ltp(account=account, instruments=[instrument]).get(instrument.pk)
            except BrokerError:
                estimate = None
        result["estimate_basis"] = "LTP"
    result["estimate"] = estimate
    request = broker_request(order, estimate=estimate)
    try:
        with calling(account) as adapter:
            if caps.margin_preview:
                result["margin"] = adapter.margin_preview([request])
            if caps.charges_preview and request.price is not None:  # never charges on ₹0
                result["charges"] = adapter.charges_preview([request])
    except BrokerError as exc:
        result["error"] = exc.message
    return result
