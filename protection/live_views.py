"""What every page polls for the halt banner, and the dashboard for its loss-limit
card (static/js/live.js): the database only, never a broker call."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from sigmatrader.http import AuthedHttpRequest

from .templatetags.protection_tags import banner_context, card_context


@require_GET
def live_halts(request: AuthedHttpRequest) -> HttpResponse:
    return render(request, "protection/_halt_banner.html", banner_context(request.user))


@require_GET
def live_day_pnl(request: AuthedHttpRequest) -> HttpResponse:
    return render(request, "protection/_day_pnl_card.html", card_context(request.user))
