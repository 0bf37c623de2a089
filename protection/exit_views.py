"""The Orders page's protection actions: change or cancel an entry's exit plan."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST

from orders import presentation, selectors
from sigmatrader.http import AuthedHttpRequest
from sigmatrader.pages import redirect_back, wants_fragment

from .exits import editing, plan_state


@require_POST
def change(request: AuthedHttpRequest, order_id: int) -> HttpResponse:
    """Every bad part is refused at once, each at its field (the exit cell comes back with
    them for the page's HTMX form; a plain POST lists them in a message)."""
    entry = selectors.order_for(request.user, order_id)
    given = {
        "stop_loss": request.POST.get("stop_loss", "")[:24],
        "target": request.POST.get("target", "")[:24],
        "trailing_stop": _given(request, "trailing_stop"),
        "trail_activation": _given(request, "trail_activation"),
    }
    errors = editing.edit_plan(entry=entry, actor=request.user.get_username(), **given)
    if not errors:
        plan_state.plan_changed(entry=entry)  # a refused plan's note gives way to the change
    fragment = wants_fragment(request)
    # In the cell, a field's error sits at its field; the message says the rest.
    said = [message for name, message in errors.items() if not (fragment and name)]
    if said:
        messages.error(request, f"Order #{entry.pk}: " + " ".join(said))
    elif not errors:
        messages.success(request, f"Order #{entry.pk}: exit plan saved.")
    if not fragment:
        return redirect_back(request, "orders:orders")
    cell = presentation.exit_cell(entry)
    if cell is None:  # not reachable: the plan exists (edit_plan found it or said so)
        return redirect_back(request, "orders:orders")
    cell["answered"] = True  # the cell says how the change went
    if errors:
        shown = {field["name"]: field["value"] for field in cell["fields"]}
        shown.update({name: value for name, value in given.items() if value is not None})
        cell["fields"] = presentation.exit_fields(shown, errors)
        cell["editing"] = True
    return render(request, "orders/_exit_plan.html", {"x": cell}, status=422 if errors else 200)


def _given(request: AuthedHttpRequest, name: str) -> str | None:
    """A field the form posted (None: not in the form, the stored text stays)."""
    value = request.POST.get(name)
    return None if value is None else value[:24]


@require_POST
def cancel(request: AuthedHttpRequest, order_id: int) -> HttpResponse:
    entry = selectors.order_for(request.user, order_id)
    problem = editing.cancel_plan(entry=entry, actor=request.user.get_username())
    if problem:
        messages.error(request, f"Order #{entry.pk}: {problem}")
    else:
        messages.success(request, f"Order #{entry.pk}: protection cancelled.")
    return redirect_back(request, "orders:orders")
