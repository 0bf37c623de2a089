"""Settings → Notifications: thin views over notifications.services."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from sigmatrader.http import AuthedHttpRequest
from sigmatrader.settings_page import render_settings

from . import services
from .forms import PreferencesForm
from .models import Channel, Preferences
from .selectors import bot_status


def _telegram_problem(user) -> str:
    """Why messages cannot go to Telegram yet ("" when they can)."""
    if not bot_status().configured:
        return (
            "No Telegram bot is set up on this server yet: its operator sets one "
            "(manage.py telegram_bot --set-token; see the README)."
        )
    if not Preferences.objects.filter(user=user).exclude(telegram_chat_id="").exists():
        return "Link your Telegram chat first (Link Telegram, above)."
    return ""


@login_required
@require_POST
def save(request: AuthedHttpRequest) -> HttpResponse:
    form = PreferencesForm(request.POST, telegram_problem=_telegram_problem(request.user))
    if not form.is_valid():
        return render_settings(request, status=422, notification_form=form)
    services.preferences_update(user=request.user, **form.cleaned_data)
    messages.success(request, "Notification settings saved.")
    return redirect(reverse("settings") + "#notifications")


@login_required
@require_POST
def link_telegram(request: AuthedHttpRequest) -> HttpResponse:
    if not bot_status().configured:
        return render_settings(
            request,
            status=409,
            notification_error="No Telegram bot is set up on this server yet: ask its operator.",
        )
    code = services.telegram_link_start(user=request.user)
    return render_settings(request, notification_link_code=code)


@login_required
@require_POST
def unlink_telegram(request: AuthedHttpRequest) -> HttpResponse:
    services.telegram_unlink(user=request.user)
    messages.success(request, "Telegram chat unlinked.")
    return redirect(reverse("settings") + "#notifications")


@login_required
@require_POST
def send_test(request: AuthedHttpRequest, channel: str) -> HttpResponse:
    if channel not in Channel.values:
        raise Http404
    error = services.send_test(user=request.user, channel=channel)
    label = Channel(channel).label
    if error:  # said on the page with a 4xx: a failed test is never a server error
        return render_settings(
            request, status=422, notification_error=f"{label} test not delivered: {error}"
        )
    messages.success(request, f"{label} test message sent.")
    return redirect(reverse("settings") + "#notifications")
