"""The closed-market choice on the Queue's Execute (see closed_market)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from sigmatrader.http import AuthedHttpRequest

from . import closed_market, presentation
from .models import Order


def before_execute(request: AuthedHttpRequest, order: Order) -> HttpResponse | None:
    """None: go on and execute. Else the response that offers the choice.

    `when_closed=amo` (the trader chose "Send as AMO") turns the waiting order
    into an AMO first, then the caller executes it.
    """
    if not order.is_editable:
        return None  # execute() explains why it cannot be sent again
    closed = closed_market.closed_for(order)
    if closed is None:
        return None
    if request.POST.get("when_closed") == "amo" and closed.amo:
        closed_market.make_amo(order=order, actor=request.user.get_username())
        return None
    if request.htmx:
        return render(
            request,
            "orders/_market_closed_row.html",
            {"row": presentation.queue_row(order), "closed": closed},
        )
    hint = " Send it as AMO from the queue, or keep it waiting." if closed.amo else ""
    messages.warning(request, f"Order #{order.pk} is still waiting: {closed.message}{hint}")
    url = reverse("orders:queue")  # the queue of the order's account, not the session's
    return redirect(f"{url}?account={order.account_id}" if order.account_id else url)
