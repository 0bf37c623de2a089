"""What visible pages poll (static/js/live.js, every LIVE_POLL_SECONDS while the tab is
visible): small out-of-band fragments that replace single cells, built from the
database and the live quote cache only. No view here ever calls a broker."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from . import presentation, queue, toasts
from .models import Order

MAX_ORDERS = 500


@dataclass(frozen=True)
class Changed:
    """An order whose status block goes out: its cell, and its row when its actions changed."""

    order: Order
    cell: dict
    new_actions: bool
    row: dict | None


def _have(raw: str) -> dict[int, str]:
    """`have` = "pk.version.actions,...": what the page shows of each order."""
    have = {}
    for item in raw.split(",")[:MAX_ORDERS]:
        pk = item.split(".", 1)[0]
        if pk.isdigit():
            have[int(pk)] = item
    return have


@require_GET
def live_orders(request):
    """Status blocks (queue: and prices) of the orders the page lists; a status block goes
    only when the order changed, an actions block only when its set of actions did."""
    page = request.GET.get("page", "")
    if page not in ("queue", "orders"):
        raise Http404
    have = _have(request.GET.get("have", ""))
    orders = list(
        Order.objects.filter(user=request.user, pk__in=list(have)).select_related("instrument")
    )
    changed: list[Changed] = []
    states: list[str] = []
    for order in orders:
        state = presentation.live_state(order)
        states.append(state)
        if state == have[order.pk]:
            continue
        before_actions = have[order.pk].rsplit(".", 1)[-1]
        changed.append(
            Changed(
                order=order,
                cell=presentation.status_cell(order),
                new_actions=state.rsplit(".", 1)[-1] != before_actions,
                row=presentation.queue_row(order) if page == "queue" else None,
            )
        )
    prices = queue.prices_for(orders) if page == "queue" else {}
    exits = _exit_cells(request) if page == "orders" else []
    context = {
        "page": page,
        "changed": changed,
        "states": ",".join(sorted(states, key=lambda s: int(s.split(".", 1)[0]))),
        "prices": [(order.pk, prices.get(order.pk)) for order in orders],
        "queue_url": reverse("orders:queue"),
        "orders_url": reverse("orders:orders"),
        "exits": exits,
    }
    return render(request, "sigmatrader/_live_orders.html", context)


def _exit_cells(request) -> list[dict]:
    """The Orders page's exit cells that changed (the exit pair, the stop as trailed, the
    state): `exits` = "pk.version" of each cell the page shows (its hidden input)."""
    have: dict[int, str] = {}
    for item in request.GET.getlist("exits")[:MAX_ORDERS]:
        pk, _, version = item.partition(".")
        if pk.isdigit():
            have[int(pk)] = version
    if not have:
        return []
    entries = (
        Order.objects.filter(user=request.user, pk__in=list(have))
        .select_related("exit_plan")
        .prefetch_related("exit_legs")
    )
    cells = [presentation.exit_cell(entry) for entry in entries]
    return [cell for cell in cells if cell is not None and cell["version"] != have[cell["pk"]]]


@require_GET
def live_toasts(request):
    """New toasts for this session (appended to the page's toast region)."""
    found = toasts.pending_toasts(user=request.user, session=request.session)
    return render(request, "sigmatrader/_toasts.html", {"toasts": found})
