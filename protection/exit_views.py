"""The Orders page's protection actions: change or cancel an entry's exit plan."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.views.decorators.http import require_POST

from orders import selectors
from sigmatrader.http import AuthedHttpRequest
from sigmatrader.pages import redirect_back

from .exits import editing


@require_POST
def change(request: AuthedHttpRequest, order_id: int) -> HttpResponse:
    entry = selectors.order_for(request.user, order_id)
    problem = editing.edit_plan(
        entry=entry,
        stop_loss=request.POST.get("stop_loss", "")[:24],
        target=request.POST.get("target", "")[:24],
        trailing_stop=_given(request, "trailing_stop"),
        trail_activation=_given(request, "trail_activation"),
        actor=request.user.get_username(),
    )
    if problem:
        messages.error(request, f"Order #{entry.pk}: {problem}")
    else:
        messages.success(request, f"Order #{entry.pk}: exit plan saved.")
    return redirect_back(request, "orders:orders")


@require_POST
def cancel(request: AuthedHttpRequest, order_id: int) -> HttpResponse:
    entry = selectors.order_for(request.user, order_id)
    problem = editing.cancel_plan(entry=entry, actor=request.user.get_username())
    if problem:
        messages.error(request, f"Order #{entry.pk}: {problem}")
    else:
        messages.success(request, f"Order #{entry.pk}: protection cancelled.")
    return redirect_back(request, "orders:orders")


def _given(request: AuthedHttpRequest, name: str) -> str | None:
    """A field the form posted (None: not in the form, the stored text stays)."""
    value = request.POST.get(name)
    return None if value is None else value[:24]
