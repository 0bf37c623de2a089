import pytest

from sigmatrader.events import REDACTED, is_secret_key, record_event, scrub, scrub_text
from sigmatrader.models import SystemEvent

JWT = "eyJhbGciOiJIUzUxMiJ9.eyJzdWIiOiJBMTIzNCIsImV4cCI6MTcwMDAwMDAwMH0.c2lnbmF0dXJl"


@pytest.mark.parametrize(
    "key",
    [
        "token",
        "access_token",
        "request_token",
        "refreshToken",
        "jwtToken",
        "feed-token",
        "api_secret",
        "totp_secret",
        "password",
        "clientPin",
        "pin",
        "totp",
        "api_key",
        "X-PrivateKey",
        "Authorization",
    ],
)
def test_secret_keys_are_recognised(key):
    assert is_secret_key(key)


@pytest.mark.parametrize(
    "key", ["shipping", "mapping", "opinion", "symbol", "quantity", "spinner", "order_id"]
)
def test_ordinary_keys_are_kept(key):
    assert not is_secret_key(key)


def test_scrub_reaches_every_depth_and_keeps_the_rest():
    details = {
        "account": "main",
        "password": "hunter2",
        "nested": {"api_secret": "s3cr3t", "legs": [{"pin": "1234", "qty": 5}]},
        "empty_token": "",
    }
    assert scrub(details) == {
        "account": "main",
        "password": REDACTED,
        "nested": {"api_secret": REDACTED, "legs": [{"pin": REDACTED, "qty": 5}]},
        "empty_token": "",
    }


def test_jwt_and_bearer_values_are_masked_in_free_text():
    text = f"login said Bearer abcdefghijklmnop1234 and returned {JWT}"
    cleaned = scrub_text(text)
    assert JWT not in cleaned
    assert "abcdefghijklmnop1234" not in cleaned
    assert cleaned.count(REDACTED) == 2


def test_record_event_never_stores_a_secret(db, user):
    event = record_event(
        category=SystemEvent.Category.BROKER,
        message=f"session refreshed, jwt {JWT}",
        user=user,
        details={"totp": "123456", "response": {"jwtToken": JWT, "status": True}},
        correlation_id="abc",
    )
    stored = SystemEvent.objects.get(pk=event.pk)
    assert "123456" not in str(stored.details)
    assert JWT not in str(stored.details) and JWT not in stored.message
    assert stored.details["response"]["status"] is True
    assert stored.user == user and stored.correlation_id == "abc"


def test_record_event_keeps_no_anonymous_user(db):
    from django.contrib.auth.models import AnonymousUser

    event = record_event(category="security", message="x", user=AnonymousUser())
    assert event.user is None


def test_log_lines_are_redacted_by_the_configured_handler():
    import logging

    from sigmatrader.log_filters import RedactSecrets

    handlers = [
        h
        for h in logging.getLogger().handlers
        if any(isinstance(f, RedactSecrets) for f in h.filters)
    ]
    assert handlers, "the stdout handler has no redaction filter"
    record = logging.LogRecord(
        "some.client",
        logging.WARNING,
        __file__,
        1,
        "Request headers {'Authorization': 'Bearer %s'}",
        (JWT,),
        None,
    )
    assert handlers[0].filter(record)
    line = handlers[0].format(record)
    assert JWT not in line and "[redacted]" in line
