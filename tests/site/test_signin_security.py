"""Sign-in brute force is throttled (django-axes), the user sees failed sign-ins for
their username, and optional TOTP two-factor sign-in (django-otp) (issue 13, item 10)."""

import re
import time
from datetime import timedelta

import pyotp
import pytest
from axes.models import AccessAttempt
from django.urls import reverse
from django.utils import timezone

from sigmatrader.models import AuthenticatorDevice
from tests.conftest import PASSWORD


def sign_in(client, username, password, ip="10.0.0.1", **extra):
    return client.post(
        reverse("login"), {"username": username, "password": password, **extra}, REMOTE_ADDR=ip
    )


def signed_in_ok(response):
    return response.status_code == 302 and response["Location"] == reverse("dashboard")


def cool_off():
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(hours=1))


def test_sixty_wrong_passwords_are_throttled_and_then_the_right_one_is_refused(
    client, user, settings
):
    answers = [sign_in(client, "alice", f"wrong-{n}").status_code for n in range(60)]
    limit = settings.AXES_FAILURE_LIMIT
    assert answers[: limit - 1] == [200] * (limit - 1)  # the form again, with its error
    assert set(answers[limit:]) == {429}
    refused = sign_in(client, "alice", PASSWORD)
    assert refused.status_code == 429 and "Too many failed sign-ins" in refused.content.decode()
    assert "_auth_user_id" not in client.session
    cool_off()
    assert signed_in_ok(sign_in(client, "alice", PASSWORD))


def test_throttled_per_username_across_addresses(client, user, settings):
    for n in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "alice", "wrong", ip=f"10.9.0.{n + 1}")
    assert sign_in(client, "alice", PASSWORD, ip="10.9.9.9").status_code == 429


def test_throttled_per_address_across_usernames(client, user, other_user, settings):
    for n in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, f"guess{n}", "wrong", ip="10.7.7.7")
    assert sign_in(client, "bob", PASSWORD, ip="10.7.7.7").status_code == 429
    assert signed_in_ok(sign_in(client, "bob", PASSWORD, ip="10.7.7.8"))


def test_the_user_sees_failed_sign_ins_for_their_username_only(client, user, other_user):
    for _ in range(3):
        sign_in(client, "alice", "wrong", ip="203.0.113.9")
    sign_in(client, "bob", "wrong", ip="198.51.100.4")
    client.force_login(user)
    page = client.get(reverse("settings")).content.decode()
    table = page[page.index('id="failed-sign-ins"') :]
    assert table.count("203.0.113.9") == 3 and "198.51.100.4" not in page
    client.force_login(other_user)
    page = client.get(reverse("security")).content.decode()
    assert "198.51.100.4" in page and "203.0.113.9" not in page


def _code(secret, offset=0):
    return pyotp.TOTP(secret).at(time.time() + offset)


def _time_passes():
    """django-otp refuses a code twice and slows down after failures: as if time passed."""
    for device in AuthenticatorDevice.objects.all():
        device.last_t = -1
        device.throttle_reset(commit=False)
        device.save()


def test_totp_enroll_sign_in_with_and_without_the_code_and_disable(client, user):
    client.force_login(user)
    started = client.post(reverse("two-factor-start"), HTTP_HX_REQUEST="true")
    html = started.content.decode()
    secret = re.search(r'id="totp-secret"[^>]*>([A-Z2-7]+)<', html).group(1)
    assert "<svg" in html  # the QR code
    # The secret is shown once: the card shown later does not carry it.
    assert secret not in client.get(reverse("security")).content.decode()
    wrong = client.post(reverse("two-factor-confirm"), {"code": "000000"})
    assert (
        wrong.status_code == 422 and not AuthenticatorDevice.objects.filter(confirmed=True).exists()
    )
    # A failed confirm dropped nothing: the pending device still confirms.
    _time_passes()
    ok = client.post(reverse("two-factor-confirm"), {"code": _code(secret)})
    assert ok.status_code == 200 and AuthenticatorDevice.objects.get(user=user).confirmed
    client.logout()

    # Password alone: refused, with a clear message.
    _time_passes()
    alone = sign_in(client, "alice", PASSWORD)
    assert alone.status_code == 200 and "6-digit code" in alone.content.decode()
    assert "_auth_user_id" not in client.session
    # With the code: signed in, the session verified by django-otp.
    assert signed_in_ok(sign_in(client, "alice", PASSWORD, otp_token=_code(secret)))
    assert client.get(reverse("security")).wsgi_request.user.is_verified()
    client.logout()
    # A wrong code: refused, and counted as a failed sign-in.
    assert sign_in(client, "alice", PASSWORD, otp_token="123456").status_code == 200
    assert "_auth_user_id" not in client.session
    attempt = AccessAttempt.objects.get(username="alice")
    assert "123456" not in attempt.post_data and PASSWORD not in attempt.post_data

    # Turning it off needs a code.
    _time_passes()
    client.force_login(user)
    assert client.post(reverse("two-factor-disable"), {"code": "000000"}).status_code == 422
    assert AuthenticatorDevice.objects.filter(user=user, confirmed=True).exists()
    _time_passes()
    assert client.post(reverse("two-factor-disable"), {"code": _code(secret)}).status_code == 200
    assert not AuthenticatorDevice.objects.filter(user=user).exists()
    client.logout()
    assert signed_in_ok(sign_in(client, "alice", PASSWORD))


@pytest.mark.parametrize("staff", [True, False])
def test_the_admin_signs_in_through_the_apps_page(client, make_user, staff):
    answer = client.get("/admin/login/?next=/admin/")
    assert answer.status_code == 302 and answer["Location"].startswith(reverse("login"))
    person = make_user("carol", superuser=staff)
    client.force_login(person)
    answer = client.get("/admin/login/")
    assert answer.status_code == (302 if staff else 403)


def test_the_two_factor_key_is_encrypted_at_rest_and_never_shown_in_the_admin(
    client, user, make_user
):
    from django.db import connection

    from sigmatrader import two_factor

    enrollment = two_factor.start_enrollment(user=user)
    device = AuthenticatorDevice.objects.get(user=user)
    hex_key = device.secret["key"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM sigmatrader_authenticatordevice")
        row = " ".join(str(value) for value in cursor.fetchone())
    assert hex_key not in row and enrollment["secret"] not in row
    client.force_login(make_user("root", superuser=True))
    pages = [
        client.get("/admin/sigmatrader/authenticatordevice/"),
        client.get(f"/admin/sigmatrader/authenticatordevice/{device.pk}/change/"),
    ]
    assert [page.status_code for page in pages] == [200, 200]
    for page in pages:
        body = page.content.decode(errors="replace")
        assert hex_key not in body and enrollment["secret"] not in body


def test_an_unreadable_two_factor_key_fails_closed(client, user):
    from django.db import connection

    from sigmatrader import two_factor

    enrollment = two_factor.start_enrollment(user=user)
    AuthenticatorDevice.objects.update(confirmed=True)
    with connection.cursor() as cursor:  # as if SECRET_KEY changed without a fallback
        cursor.execute("UPDATE sigmatrader_authenticatordevice SET secret = 'not-a-fernet-token'")
    answer = sign_in(client, "alice", PASSWORD, otp_token=_code(enrollment["secret"]))
    assert answer.status_code == 200 and "6-digit code" in answer.content.decode()
    assert "_auth_user_id" not in client.session


def test_key_rotation_reencrypts_two_factor_keys(user, settings):
    from django.core.management import call_command

    from sigmatrader import two_factor
    from sigmatrader.crypto import encrypted_fields

    def rekey(secret, fallbacks=()):
        settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = secret, list(fallbacks)
        for field in encrypted_fields(AuthenticatorDevice):
            field.reset_keys()

    old, new = "o" * 50, "n" * 50
    try:
        rekey(old)
        enrollment = two_factor.start_enrollment(user=user)
        rekey(new, fallbacks=[old])
        call_command("reencrypt_secrets")
        rekey(new)  # the old key retired: the rewritten key still opens
        assert AuthenticatorDevice.objects.get(user=user).base32_secret == enrollment["secret"]
    finally:
        for field in encrypted_fields(AuthenticatorDevice):
            field.reset_keys()


def test_the_test_clients_login_still_works(client, user):
    assert client.login(username="alice", password=PASSWORD)
    assert not client.login(username="alice", password="wrong")
