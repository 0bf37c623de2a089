"""One account whose stored secrets no key opens is that account's problem only:
every job goes on for the others, its owner is told to reconnect, the admin
lists it and can reset or delete it; a whole wrong SECRET_KEY is a start-up
error (system check), not 500s."""

import pytest
from cryptography.fernet import Fernet
from django.contrib.messages import constants
from django.db import connection
from django.urls import reverse

from brokers import accounts, connections
from brokers.checks import stored_secrets_readable
from brokers.models import UNREADABLE_MESSAGE, BrokerAccount
from orders.execution import create_order
from orders.sync import order_sync_all
from portfolio.sync import portfolio_sync_all
from sigmatrader.crypto import UndecryptableSecret
from sigmatrader.models import SystemEvent
from tests.brokers.peers import connected_account

FOREIGN = Fernet(Fernet.generate_key())  # a key this app never had


def scramble(account, columns=("credentials", "session")):
    table = BrokerAccount._meta.db_table
    token = FOREIGN.encrypt(b'{"api_key": "x"}').decode()
    with connection.cursor() as cursor:
        for column in columns:
            cursor.execute(f"UPDATE {table} SET {column} = %s WHERE id = %s", [token, account.pk])  # noqa: S608


@pytest.fixture
def two_owners(emulator, make_user, settings):
    settings.MARKET_ALWAYS_OPEN = True
    alice, bob = make_user("alice"), make_user("bob")
    broken, _ = connected_account(emulator, alice, "zerodha", "main")
    fine, fine_peer = connected_account(emulator, bob, "zerodha", "main")
    from marketdata import refresh

    refresh.refresh_instruments(broker="zerodha")
    for account in (broken, fine):  # a live order each, so the order sync visits both
        order = create_order(
            user=account.user, account=account, symbol="NSE:SBIN", side="BUY", quantity=1, actor="t"
        )
        type(order).objects.filter(pk=order.pk).update(status="SENT", broker_order_id="1")
    scramble(broken)
    return broken, fine


def test_loading_never_fails_using_the_secret_does(two_owners):
    broken, fine = two_owners
    loaded = {a.pk: a for a in BrokerAccount.objects.all()}  # one query over both rows
    assert loaded[broken.pk].secrets_unreadable and not loaded[fine.pk].secrets_unreadable
    with pytest.raises(UndecryptableSecret):
        loaded[broken.pk].credentials.get("api_key")
    assert "gAAAA" not in repr(loaded[broken.pk].credentials)


def test_jobs_go_on_for_everyone_else(two_owners):
    broken, fine = two_owners

    def still_connected():
        BrokerAccount.objects.filter(pk=broken.pk).update(status="connected", last_error="")

    outcome = connections.refresh_all_sessions()
    assert outcome.get("unreadable") == 1 and sum(outcome.values()) == 2
    still_connected()
    results = {r.account_id: r for r in portfolio_sync_all()}
    assert results[fine.pk].ok and "cannot be read" in results[broken.pk].error
    still_connected()
    results = {r.account_id: r for r in order_sync_all()}
    assert not results[fine.pk].error and "cannot be read" in results[broken.pk].error
    broken.refresh_from_db()
    assert broken.status == "error" and broken.last_error == UNREADABLE_MESSAGE
    events = SystemEvent.objects.filter(
        user=broken.user, category="broker", message__contains="cannot be read"
    )
    assert events.count() == 3  # once per job here (each found it connected again)
    connections.refresh_all_sessions()
    portfolio_sync_all()
    assert events.count() == 3  # ...and not again while it stays in error
    assert not SystemEvent.objects.filter(user=fine.user, level="error").exists()


def test_owner_sees_reconnect_and_can_reenter_credentials(client, two_owners):
    broken, _ = two_owners
    client.force_login(broken.user)
    for url in ("/", reverse("settings"), "/orders/", "/holdings/"):
        response = client.get(url)
        assert response.status_code == 200, url
    assert "stored credentials cannot be read" in client.get(reverse("settings")).content.decode()
    accounts.update_credentials(
        account=broken, label="main", credentials={"api_key": "k2", "api_secret": "s2"}
    )
    fresh = BrokerAccount.objects.get(pk=broken.pk)
    assert not fresh.secrets_unreadable and fresh.status == "not_connected"
    assert fresh.credentials["api_key"] == "k2"


def test_admin_lists_resets_and_deletes_it(client, two_owners, make_user):
    broken, fine = two_owners
    client.force_login(make_user("root", superuser=True))
    listing = client.get("/admin/brokers/brokeraccount/")
    assert listing.status_code == 200 and "alice" in listing.content.decode()
    assert client.get(f"/admin/brokers/brokeraccount/{broken.pk}/change/").status_code == 200
    response = client.post(
        "/admin/brokers/brokeraccount/",
        {"action": "reset_secrets", "_selected_action": [broken.pk]},
        follow=True,
    )
    assert any(m.level == constants.INFO for m in response.context["messages"])
    fresh = BrokerAccount.objects.get(pk=broken.pk)
    assert fresh.credentials == {} and fresh.session == {} and fresh.status == "not_connected"
    scramble(fresh)
    response = client.post(
        f"/admin/brokers/brokeraccount/{broken.pk}/delete/", {"post": "yes"}, follow=True
    )
    assert response.status_code == 200 and not BrokerAccount.objects.filter(pk=broken.pk)
    assert BrokerAccount.objects.filter(pk=fine.pk).exists()


def test_start_up_check_names_a_wrong_key_and_single_bad_rows(two_owners):
    broken, fine = two_owners
    assert [m.id for m in stored_secrets_readable()] == ["brokers.W001"]
    scramble(fine)
    assert [m.id for m in stored_secrets_readable()] == ["brokers.E001"]


def test_worker_start_says_a_wrong_key_loudly(two_owners, caplog):
    from sigmatrader.celery import say_unreadable_secrets_at_start

    for account in two_owners:
        scramble(account)
    say_unreadable_secrets_at_start()
    assert [r.levelname for r in caplog.records if "brokers.E001" in r.getMessage()] == ["CRITICAL"]
