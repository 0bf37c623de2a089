"""The Notifications card of the Settings page."""

from __future__ import annotations

from .classify import mask_id
from .kinds import CHOOSABLE
from .models import Channel
from .selectors import bot_status, preferences_for


def settings_section(request) -> dict:
    from .forms import PreferencesForm

    if not request.user.is_authenticated:
        return {}
    prefs = preferences_for(user=request.user)
    return {
        "notification_prefs": prefs,
        "notification_form": PreferencesForm.for_prefs(prefs),
        "notification_bot": bot_status(),
        "notification_chat": mask_id(prefs.telegram_chat_id) if prefs.telegram_chat_id else "",
        "notification_email": prefs.address_for(Channel.EMAIL),
        "notification_kinds": [(kind.value, kind.label) for kind in CHOOSABLE],
    }
