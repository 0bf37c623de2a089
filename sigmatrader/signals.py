"""Sign-in activity goes to the audit trail as security events."""

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from .events import record_event
from .models import SystemEvent
from .net import client_ip


@receiver(user_login_failed)
def record_failed_sign_in(sender, credentials, request=None, **kwargs):
    # Only the username: Django already masks the password, and we store none.
    username = str(credentials.get("username", ""))[:150]
    record_event(
        category=SystemEvent.Category.SECURITY,
        level=SystemEvent.Level.WARNING,
        message=f"Sign-in failed for '{username}'",
        details={"username": username, "ip": client_ip(request)},
    )


@receiver(user_logged_in)
def record_sign_in(sender, request, user, **kwargs):
    record_event(
        category=SystemEvent.Category.SECURITY,
        message=f"{user.get_username()} signed in",
        user=user,
        details={"ip": client_ip(request)},
    )


@receiver(user_logged_out)
def record_sign_out(sender, request, user, **kwargs):
    if user is not None:
        record_event(
            category=SystemEvent.Category.SECURITY,
            message=f"{user.get_username()} signed out",
            user=user,
            details={"ip": client_ip(request)},
        )
