"""Reads for the audit trail, scoped to the user who asks."""

from .models import SystemEvent


def events_visible_to(user, *, level: str = "", category: str = "", q: str = ""):
    events = SystemEvent.objects.select_related("user")
    if not user.is_superuser:
        events = events.filter(user=user)
    if level:
        events = events.filter(level=level)
    if category:
        events = events.filter(category=category)
    if q:
        events = events.filter(message__icontains=q)
    return events
