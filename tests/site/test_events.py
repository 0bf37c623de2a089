from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from sigmatrader.events import record_event
from sigmatrader.models import SystemEvent


def test_user_sees_only_their_own_events(client, user, other_user):
    record_event(category="broker", message="alice connected", user=user)
    record_event(category="broker", message="bob connected", user=other_user)
    record_event(category="system", message="nightly job", user=None)
    client.force_login(user)
    body = client.get(reverse("events")).content.decode()
    assert "alice connected" in body
    assert "bob connected" not in body
    assert "nightly job" not in body


def test_superuser_sees_every_event(client, user, make_user):
    admin = make_user("root", superuser=True)
    record_event(category="broker", message="alice connected", user=user)
    record_event(category="system", message="nightly job")
    client.force_login(admin)
    body = client.get(reverse("events")).content.decode()
    assert "alice connected" in body and "nightly job" in body


def test_filters_by_level_and_category_and_htmx_gets_the_fragment(signed_in, user):
    record_event(category="order", level="error", message="order rejected", user=user)
    record_event(category="order", level="info", message="order placed", user=user)
    record_event(category="security", level="warning", message="odd sign-in", user=user)

    response = signed_in.get(reverse("events"), {"level": "error"}, headers={"HX-Request": "true"})
    body = response.content.decode()
    assert "order rejected" in body and "order placed" not in body and "odd sign-in" not in body
    assert "<html" not in body and body.lstrip().startswith('<div id="events-table">')

    body = signed_in.get(reverse("events"), {"category": "security"}).content.decode()
    assert "odd sign-in" in body and "order placed" not in body and "<html" in body


def test_unknown_filter_value_shows_everything_rather_than_failing(signed_in, user):
    record_event(category="order", message="order placed", user=user)
    response = signed_in.get(reverse("events"), {"level": "nonsense"})
    assert response.status_code == 200 and b"order placed" in response.content


def test_newest_first_and_paginated(signed_in, user, settings):
    settings.EVENTS_PAGE_SIZE = 5
    now = timezone.now()
    for i in range(12):
        SystemEvent.objects.create(
            user=user,
            category="sync",
            message=f"event-{i:02d}",
            created_at=now + timedelta(seconds=i),
        )
    first = signed_in.get(reverse("events")).content.decode()
    assert first.index("event-11") < first.index("event-10")
    assert "event-06" not in first and "Page 1 of 3" in first
    third = signed_in.get(reverse("events"), {"page": 3}).content.decode()
    assert "event-00" in third and "event-11" not in third


def test_pagination_keeps_the_filters(signed_in, user, settings):
    settings.EVENTS_PAGE_SIZE = 2
    for i in range(3):
        record_event(category="order", message=f"o{i}", user=user)
    body = signed_in.get(reverse("events"), {"category": "order"}).content.decode()
    assert "category=order&amp;page=2" in body


def test_failed_sign_in_is_a_security_event_without_the_password(client, user):
    client.post(reverse("login"), {"username": "alice", "password": "wrong-password-123"})
    event = SystemEvent.objects.get(category="security", level="warning")
    assert "alice" in event.message
    assert "wrong-password-123" not in str(event.details) + event.message
    assert event.details["ip"] == "127.0.0.1"


def test_successful_sign_in_and_out_are_recorded(client, user):
    from tests.conftest import PASSWORD

    client.post(reverse("login"), {"username": "alice", "password": PASSWORD})
    client.post(reverse("logout"))
    messages = list(SystemEvent.objects.filter(user=user).values_list("message", flat=True))
    assert "alice signed in" in messages and "alice signed out" in messages


def test_admin_lists_events_read_only(client, make_user):
    admin = make_user("root", superuser=True)
    record_event(category="system", message="visible in admin")
    client.force_login(admin)
    response = client.get(reverse("admin:sigmatrader_systemevent_changelist"))
    assert response.status_code == 200 and b"visible in admin" in response.content
    assert client.get(reverse("admin:sigmatrader_systemevent_add")).status_code == 403
