"""Optional TOTP two-factor sign-in for the app (a django-otp device whose key is
encrypted at rest, `AuthenticatorDevice`), and the user's own view of failed
sign-ins.

Services only: the views in security_views.py and the sign-in form call these.
"""

from __future__ import annotations

import logging

import segno
from django.contrib.auth.signals import user_login_failed

from .crypto import UndecryptableSecret
from .events import record_event
from .models import AuthenticatorDevice, SystemEvent

logger = logging.getLogger(__name__)

DEVICE_NAME = "Authenticator app"


def confirmed_device(user) -> AuthenticatorDevice | None:
    if user is None or not user.is_authenticated:
        return None
    # The key is decrypted only when a code is checked (deferred): an unreadable key
    # still counts as two-factor on, and then no code passes (fails closed).
    return AuthenticatorDevice.objects.filter(user=user, confirmed=True).defer("secret").first()


def is_enabled(user) -> bool:
    if user is None or not user.is_authenticated:
        return False
    return AuthenticatorDevice.objects.filter(user=user, confirmed=True).exists()


def start_enrollment(*, user) -> dict:
    """A new, unconfirmed device (any earlier unconfirmed one is dropped). The secret
    and QR code in the answer are shown once; only the confirmed device signs in."""
    AuthenticatorDevice.objects.filter(user=user, confirmed=False).delete()
    device = AuthenticatorDevice.objects.create(
        user=user, name=DEVICE_NAME, confirmed=False, secret=AuthenticatorDevice.new_secret()
    )
    qr = segno.make(device.config_url, error="m")
    return {
        "secret": device.base32_secret,
        "qr_svg": qr.svg_inline(scale=4, dark="#000", light="#fff"),
    }


def confirm_enrollment(*, user, code: str) -> bool:
    device = AuthenticatorDevice.objects.filter(user=user, confirmed=False).first()
    if device is None or not _verify(device, code):
        return False
    AuthenticatorDevice.objects.filter(user=user, confirmed=True).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    record_event(
        category=SystemEvent.Category.SECURITY, user=user, message="Two-factor sign-in turned on"
    )
    return True


def disable(*, user, code: str) -> bool:
    device = confirmed_device(user)
    if device is None or not _verify(device, code):
        return False
    AuthenticatorDevice.objects.filter(user=user).delete()
    record_event(
        category=SystemEvent.Category.SECURITY, user=user, message="Two-factor sign-in turned off"
    )
    return True


def verify_sign_in(*, user, code: str, request=None) -> AuthenticatorDevice | None:
    """The device if `code` is right. A wrong or missing code counts as a failed sign-in
    (django-axes throttles it like a wrong password)."""
    device = confirmed_device(user)
    if device is not None and _verify(device, code):
        return device
    user_login_failed.send(
        sender=__name__,
        credentials={"username": user.get_username(), "reason": "two-factor code"},
        request=request,
    )
    return None


def _verify(device: AuthenticatorDevice, code: str) -> bool:
    code = "".join((code or "").split())
    if not code.isdigit() or len(code) != device.digits:
        return False
    # A code used before is refused, repeated failures are slowed down.
    try:
        return bool(device.verify_token(code))
    except UndecryptableSecret:
        logger.error("two-factor key of user %s cannot be decrypted", device.user_id)
        return False


def failed_sign_ins(user, limit: int = 20) -> list[dict]:
    """Recent failed sign-ins that named this user's username: when and from where."""
    events = SystemEvent.objects.filter(
        category=SystemEvent.Category.SECURITY,
        message__startswith="Sign-in failed",
        details__username=user.get_username(),
    ).order_by("-created_at")[:limit]
    return [{"at": e.created_at, "ip": (e.details or {}).get("ip") or "unknown"} for e in events]
