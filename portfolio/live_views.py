"""What the portfolio pages and the dashboard poll (static/js/live.js): out-of-band
fragments from the database and the live quote cache only, never a broker call."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET

from .dashboard import dashboard_for
from .views import CONTEXTS


@require_GET
def live_portfolio(request, kind):
    if kind not in CONTEXTS:
        raise Http404
    context = CONTEXTS[kind](request, request.GET)
    return render(request, f"portfolio/_{kind}_poll.html", context)


@require_GET
def live_dashboard(request):
    return render(
        request, "sigmatrader/_dashboard_figures.html", {"board": dashboard_for(request.user)}
    )
