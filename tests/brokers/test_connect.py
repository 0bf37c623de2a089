"""Connect flows, session lifecycle, isolation and secrecy, through the views and
the real client libraries against the emulator."""

from datetime import timedelta
from urllib.parse import parse_qsl, urlsplit

import pyotp
import pytest
import requests
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from brokers import connections
from brokers.models import BrokerAccount
from sigmatrader.models import SystemEvent
from tests.brokers.peers.angelone import smart_peer
from tests.brokers.peers.zerodha import kite_peer

CALLBACK = "http://testserver/brokers/zerodha/callback/"


@pytest.fixture
def kite(emulator):
    return kite_peer(emulator, redirect_url=CALLBACK)


@pytest.fixture
def smart(emulator):
    return smart_peer(emulator)


def add(client, broker, label="main", **credentials):
    response = client.post(
        f"{reverse('brokers:add')}?broker={broker}",
        {"broker": broker, "label": label, **credentials},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    return BrokerAccount.objects.get(label=label)


def kite_callback_params(client, kite, account):
    """Start the connect in the app, log in on the emulator's page, return its redirect."""
    start = client.get(reverse("brokers:connect", args=[account.pk]))
    assert start.status_code == 302 and start["Location"].startswith(kite.server.url)
    query = dict(parse_qsl(urlsplit(start["Location"]).query))
    page = requests.get(start["Location"], timeout=5)
    answer = requests.post(
        f"{kite.server.url}/connect/login",
        data={
            "api_key": query["api_key"],
            "redirect_params": query["redirect_params"],
            "user_id": kite.user.user_id,
            "password": kite.user.password,
        },
        allow_redirects=False,
        timeout=5,
    )
    assert page.status_code == 200 and answer.status_code == 302
    return answer.headers["Location"]


# --- Zerodha: redirect flow ------------------------------------------------


def test_zerodha_connects_through_the_login_page(signed_in, kite, user):
    account = add(signed_in, "zerodha", api_key=kite.user.api_key, api_secret="kite-secret-1")
    location = kite_callback_params(signed_in, kite, account)
    assert location.startswith(CALLBACK)
    response = signed_in.get(location.replace("http://testserver", ""))
    assert response.status_code == 302 and response["Location"] == reverse("settings")
    account.refresh_from_db()
    assert account.status == "connected" and account.broker_user_id == "ZX1234"
    local_expiry = timezone.localtime(account.session_expires_at)
    assert (local_expiry.hour, local_expiry.minute) == (6, 0)
    assert SystemEvent.objects.filter(user=user, message__contains="session connected").exists()


def _callback(client, params):
    return client.get(reverse("brokers:callback", args=["zerodha"]), params)


def test_forged_state_connects_nothing(signed_in, kite):
    account = add(signed_in, "zerodha", api_key=kite.user.api_key, api_secret="kite-secret-1")
    params = dict(parse_qsl(urlsplit(kite_callback_params(signed_in, kite, account)).query))
    forged = signing.dumps({"a": account.pk, "u": account.user_id, "n": "x"}, salt="other-salt")
    response = _callback(signed_in, {**params, "state": forged})
    assert response.status_code == 302
    account.refresh_from_db()
    assert account.status == "not_connected" and account.session == {}
    messages = [str(m) for m in response.wsgi_request._messages]
    assert any("not valid" in m for m in messages)


def test_missing_state_connects_nothing(signed_in, kite):
    account = add(signed_in, "zerodha", api_key=kite.user.api_key, api_secret="kite-secret-1")
    params = dict(parse_qsl(urlsplit(kite_callback_params(signed_in, kite, account)).query))
    params.pop("state")
    _callback(signed_in, params)
    account.refresh_from_db()
    assert account.status == "not_connected"


def test_replayed_callback_connects_nothing(signed_in, kite):
    account = add(signed_in, "zerodha", api_key=kite.user.api_key, api_secret="kite-secret-1")
    location = kite_callback_params(signed_in, kite, account)
    params = dict(parse_qsl(urlsplit(location).query))
    _callback(signed_in, params)
    connections.disconnect(account=BrokerAccount.objects.get(pk=account.pk))
    response = _callback(signed_in, params)
    account.refresh_from_db()
    assert account.status == "not_connected" and account.session == {}
    assert any("already used" in str(m) for m in response.wsgi_request._messages)


def test_another_users_state_connects_nothing(client, kite, user, other_user):
    client.force_login(user)
    account = add(client, "zerodha", api_key=kite.user.api_key, api_secret="kite-secret-1")
    params = dict(parse_qsl(urlsplit(kite_callback_params(client, kite, account)).query))
    client.force_login(other_user)
    response = _callback(client, params)
    account.refresh_from_db()
    assert account.status == "not_connected"
    assert any("another user" in str(m) for m in response.wsgi_request._messages)


def test_expired_state_connects_nothing(signed_in, kite, monkeypatch):
    account = add(signed_in, "zerodha", api_key=kite.user.api_key, api_secret="kite-secret-1")
    params = dict(parse_qsl(urlsplit(kite_callback_params(signed_in, kite, account)).query))
    monkeypatch.setattr(connections, "STATE_MAX_AGE", -1)
    _callback(signed_in, params)
    account.refresh_from_db()
    assert account.status == "not_connected"


def test_wrong_api_secret_is_a_clear_error(signed_in, kite):
    account = add(signed_in, "zerodha", api_key=kite.user.api_key, api_secret="wrong-secret")
    params = dict(parse_qsl(urlsplit(kite_callback_params(signed_in, kite, account)).query))
    response = _callback(signed_in, params)
    account.refresh_from_db()
    assert account.status == "error" and "API secret" in account.last_error
    assert account.session == {}
    assert any("checksum" in str(m) for m in response.wsgi_request._messages)


# --- AngelOne: credentials + TOTP ------------------------------------------------


def smart_account(client, smart, **extra):
    return add(
        client, "angelone", api_key=smart.user.api_key, client_code=smart.user.client_code, **extra
    )


def test_angelone_connects_with_pin_and_totp(signed_in, smart):
    account = smart_account(signed_in, smart)
    form = signed_in.get(reverse("brokers:connect", args=[account.pk])).content.decode()
    assert 'name="connect_pin"' in form and 'name="totp"' in form
    response = signed_in.post(
        reverse("brokers:connect", args=[account.pk]),
        {"connect_pin": "4321", "totp": pyotp.TOTP(smart.user.totp_secret).now()},
    )
    assert response.status_code == 302
    account.refresh_from_db()
    assert account.status == "connected" and account.session["jwt_token"]
    assert account.session_expires_at > timezone.now()
    assert "connect_pin" not in account.credentials and "pin" not in account.credentials


@pytest.mark.parametrize(
    ("pin", "totp_ok", "message"),
    [("9999", True, "Invalid PIN"), ("4321", False, "Invalid totp")],
)
def test_wrong_pin_or_totp_shows_the_brokers_message_and_stores_nothing(
    signed_in, smart, pin, totp_ok, message
):
    account = smart_account(signed_in, smart)
    totp = pyotp.TOTP(smart.user.totp_secret).now() if totp_ok else "000000"
    response = signed_in.post(
        reverse("brokers:connect", args=[account.pk]), {"connect_pin": pin, "totp": totp}
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    account.refresh_from_db()
    assert account.session == {} and account.status == "not_connected"
    assert pin not in response.content.decode().replace('name="connect_pin"', "")


def test_stored_totp_secret_connects_without_typing(signed_in, smart):
    account = smart_account(signed_in, smart, pin="4321", totp_secret=smart.user.totp_secret)
    form = signed_in.get(reverse("brokers:connect", args=[account.pk])).content.decode()
    assert 'name="totp"' not in form and 'name="connect_pin"' not in form
    signed_in.post(reverse("brokers:connect", args=[account.pk]), {})
    account.refresh_from_db()
    assert account.status == "connected"


def test_stored_pin_and_totp_connect_in_one_click_from_settings(signed_in, smart):
    """Issue 12 item 13: Settings' Connect posts at once; no middle page to click."""
    account = smart_account(signed_in, smart, pin="4321", totp_secret=smart.user.totp_secret)
    typed = smart_account(signed_in, smart, label="typed")  # PIN/TOTP typed each time
    page = signed_in.get(reverse("settings")).content.decode()
    url = reverse("brokers:connect", args=[account.pk])
    assert f'<form method="post" action="{url}"' in page
    assert f'href="{url}"' not in page
    typed_url = reverse("brokers:connect", args=[typed.pk])
    assert f'href="{typed_url}"' in page  # it still opens the form
    response = signed_in.post(url)
    assert response.status_code == 302
    account.refresh_from_db()
    assert account.status == "connected"


def _connected_smart(signed_in, smart, **extra):
    account = smart_account(signed_in, smart, **extra)
    connections.connect_with_credentials(
        account=account,
        per_connect={"connect_pin": "4321", "totp": pyotp.TOTP(smart.user.totp_secret).now()},
    )
    account.refresh_from_db()
    return account


def test_refresh_before_expiry(signed_in, smart, user):
    account = _connected_smart(signed_in, smart)
    old_jwt = account.session["jwt_token"]
    BrokerAccount.objects.filter(pk=account.pk).update(
        session_expires_at=timezone.now() + timedelta(minutes=10)
    )
    account.refresh_from_db()
    assert connections.refresh_session(account=account) == "refreshed"
    account.refresh_from_db()
    assert account.session["jwt_token"] != old_jwt
    assert account.session_expires_at > timezone.now() + timedelta(hours=1)
    assert SystemEvent.objects.filter(user=user, message__contains="session refreshed").exists()


def test_session_far_from_expiry_is_left_alone(signed_in, smart):
    account = _connected_smart(signed_in, smart)
    assert connections.refresh_session(account=account) == "kept"
    assert smart.server.state.count("smartapi", "refresh") == 0


def test_failed_refresh_with_stored_totp_logs_in_again(signed_in, smart):
    account = _connected_smart(signed_in, smart, pin="4321", totp_secret=smart.user.totp_secret)
    BrokerAccount.objects.filter(pk=account.pk).update(
        session_expires_at=timezone.now() + timedelta(minutes=5)
    )
    smart.server.state.inject("smartapi", "refresh", smart_fault())
    account.refresh_from_db()
    assert connections.refresh_session(account=account) == "relogged"
    account.refresh_from_db()
    assert account.status == "connected"


def smart_fault():
    from emulator import Fault

    return Fault("server_error", times=5)


def test_past_expiry_marks_expired_with_an_event(signed_in, kite, user):
    account = add(signed_in, "zerodha", api_key=kite.user.api_key, api_secret="kite-secret-1")
    _callback(
        signed_in, dict(parse_qsl(urlsplit(kite_callback_params(signed_in, kite, account)).query))
    )
    BrokerAccount.objects.filter(pk=account.pk).update(
        session_expires_at=timezone.now() - timedelta(minutes=1)
    )
    account.refresh_from_db()
    assert connections.refresh_session(account=account) == "expired"
    account.refresh_from_db()
    assert account.status == "expired" and account.session == {}
    event = SystemEvent.objects.filter(user=user, message__contains="expired").latest("created_at")
    assert event.level == "warning"


def test_an_auth_error_anywhere_marks_the_account_expired(signed_in, kite, user):
    account = add(signed_in, "zerodha", api_key=kite.user.api_key, api_secret="kite-secret-1")
    _callback(
        signed_in, dict(parse_qsl(urlsplit(kite_callback_params(signed_in, kite, account)).query))
    )
    kite.server.state.expire_sessions(kite.user)
    fragment = signed_in.get(reverse("brokers:funds", args=[account.pk])).content.decode()
    assert "Incorrect" in fragment
    account.refresh_from_db()
    assert account.status == "expired"
    settings_page = signed_in.get(reverse("settings")).content.decode()
    assert "reconnect" in settings_page


def test_refresh_command_runs_the_lifecycle(signed_in, smart, capsys):
    from django.core.management import call_command

    account = _connected_smart(signed_in, smart)
    BrokerAccount.objects.filter(pk=account.pk).update(
        session_expires_at=timezone.now() + timedelta(minutes=1)
    )
    call_command("refresh_sessions")
    assert "refreshed: 1" in capsys.readouterr().out


def test_funds_fragment_shows_rupees(signed_in, smart):
    account = _connected_smart(signed_in, smart)
    body = signed_in.get(reverse("brokers:funds", args=[account.pk])).content.decode()
    assert "₹5,00,000.00" in body


# --- Isolation and secrecy ------------------------------------------------


def test_other_users_get_404_on_every_account_url(client, smart, user, other_user):
    client.force_login(user)
    account = _connected_smart(client, smart)
    client.force_login(other_user)
    for name, method in [
        ("edit", "get"),
        ("edit", "post"),
        ("connect", "get"),
        ("connect", "post"),
        ("disconnect", "post"),
        ("make_default", "post"),
        ("delete", "get"),
        ("delete", "post"),
        ("check", "post"),
        ("funds", "get"),
    ]:
        response = getattr(client, method)(reverse(f"brokers:{name}", args=[account.pk]))
        assert response.status_code == 404, (name, method, response.status_code)
    assert client.post(reverse("brokers:switch"), {"account": account.pk}).status_code == 404
    account.refresh_from_db()
    assert account.status == "connected" and account.label == "main"


def test_secrets_never_appear_in_pages_events_or_admin(client, smart, make_user):
    admin = make_user("root", superuser=True)
    client.force_login(admin)
    secret = smart.user.totp_secret
    account = _connected_smart(client, smart, pin="4321", totp_secret=secret)
    jwt = account.session["jwt_token"]
    pages = [
        reverse("settings"),
        reverse("brokers:edit", args=[account.pk]),
        reverse("brokers:connect", args=[account.pk]),
        reverse("events"),
        reverse("admin:brokers_brokeraccount_changelist"),
        reverse("admin:brokers_brokeraccount_change", args=[account.pk]),
    ]
    for path in pages:
        body = client.get(path).content.decode()
        for value in (secret, smart.user.api_key, jwt, account.session["refresh_token"]):
            assert value not in body, f"{path} shows a secret"
    edit = client.get(reverse("brokers:edit", args=[account.pk])).content.decode()
    assert "set — leave blank to keep" in edit
    assert smart.user.client_code in edit  # the one non-secret field is shown


def test_editing_with_blank_secrets_keeps_them(signed_in, smart):
    account = smart_account(signed_in, smart, pin="4321", totp_secret=smart.user.totp_secret)
    response = signed_in.post(
        reverse("brokers:edit", args=[account.pk]),
        {
            "label": "family",
            "api_key": "",
            "client_code": smart.user.client_code,
            "pin": "",
            "totp_secret": "",
        },
    )
    assert response.status_code == 302
    account.refresh_from_db()
    assert account.label == "family"
    assert account.credentials["totp_secret"] == smart.user.totp_secret
    assert account.credentials["api_key"] == smart.user.api_key


def test_delete_needs_confirmation_and_logs_out(signed_in, smart):
    account = _connected_smart(signed_in, smart)
    page = signed_in.get(reverse("brokers:delete", args=[account.pk])).content.decode()
    assert "cannot be undone" in page
    signed_in.post(reverse("brokers:delete", args=[account.pk]))
    assert not BrokerAccount.objects.filter(pk=account.pk).exists()
    assert smart.server.state.count("smartapi", "logout") == 1


def test_switcher_views_another_account_without_changing_the_default(signed_in, smart, emulator):
    """Issue 12 item 7: viewing is per-session state; the default (where "my default
    account" strategies send TradingView orders) changes only by "Make default"."""
    first = smart_account(signed_in, smart)
    second = add(signed_in, "angelone", label="family", api_key="k2", client_code="B1")
    body = signed_in.get(reverse("dashboard")).content.decode()
    assert "selected>AngelOne · main" in body
    response = signed_in.post(reverse("brokers:switch"), {"account": second.pk, "next": "/queue/"})
    assert response["Location"] == f"/queue/?account={second.pk}"
    second.refresh_from_db()
    first.refresh_from_db()
    assert first.is_default and not second.is_default  # the default stands
    # The session keeps viewing the chosen account on pages without ?account=.
    response = signed_in.get(reverse("orders:queue"))
    assert response.context["current_account"] == second
    response = signed_in.get(reverse("orders:queue"), {"account": first.pk})
    assert response.context["current_account"] == first
    assert response.context["capabilities"] is first.adapter_class.capabilities
    # Making a default is its own explicit action, with the consequence stated.
    response = signed_in.post(reverse("brokers:make_default", args=[second.pk]), follow=True)
    second.refresh_from_db()
    first.refresh_from_db()
    assert second.is_default and not first.is_default
    assert "“my default account” will send orders here" in response.content.decode()


def test_failed_refresh_without_stored_totp_is_an_event_and_keeps_the_live_session(
    signed_in, smart, user
):
    from emulator import Fault

    account = _connected_smart(signed_in, smart)
    BrokerAccount.objects.filter(pk=account.pk).update(
        session_expires_at=timezone.now() + timedelta(minutes=5)
    )
    smart.server.state.inject("smartapi", "refresh", Fault("server_error", times=5))
    account.refresh_from_db()
    assert connections.refresh_session(account=account) == "kept"
    account.refresh_from_db()
    assert account.status == "connected"  # still valid for five minutes
    assert SystemEvent.objects.filter(
        user=user, level="warning", message__contains="session refresh failed"
    ).exists()


def test_refresh_token_refused_marks_expired(signed_in, smart, user):
    account = _connected_smart(signed_in, smart)
    BrokerAccount.objects.filter(pk=account.pk).update(
        session_expires_at=timezone.now() + timedelta(minutes=5)
    )
    smart.server.state.tokens.pop(account.session["refresh_token"])  # the broker forgot it
    account.refresh_from_db()
    assert connections.refresh_session(account=account) == "expired"
    account.refresh_from_db()
    assert account.status == "expired" and "refused to renew" in account.last_error


def test_a_flash_message_shows_once_on_a_full_page(signed_in, smart):
    response = signed_in.post(
        f"{reverse('brokers:add')}?broker=angelone",
        {"broker": "angelone", "label": "main", "api_key": "k", "client_code": "C1"},
        follow=True,
    )
    assert response.content.decode().count("AngelOne · main added.") == 1
