"""What the Alerts page polls (static/js/live.js): the rules' status and the
notifications, out of band, from the database only."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from sigmatrader.http import AuthedHttpRequest

from . import selectors


@require_GET
def live_alerts(request: AuthedHttpRequest) -> HttpResponse:
    context = {
        "rules": list(selectors.rules_of(user=request.user)),
        "notifications": list(selectors.events_of(user=request.user)[:10]),
        "unseen": selectors.unseen_count(user=request.user),
        "oob": True,
    }
    return render(request, "alerts/_live.html", context)
