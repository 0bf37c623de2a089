"""Issue 12 item 1 (second half) and item 13: connecting an account leaves its
instruments ready (paper's list follows its price source's), with progress in
Settings that updates without a reload."""

import pytest
from django.core.cache import cache
from django.urls import reverse

from brokers import accounts
from brokers import connections as broker_connections
from marketdata import readiness, refresh
from marketdata.models import Instrument
from sigmatrader.celery import app as celery_app
from tests.brokers.peers.angelone import smart_peer


@pytest.fixture
def eager():
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False


def test_connecting_loads_the_brokers_instruments_and_then_papers(
    client, emulator, user, eager, django_capture_on_commit_callbacks
):
    client.force_login(user)
    peer = smart_peer(emulator, store_totp=True)
    live = accounts.create_account(
        user=user, broker="angelone", label="live", credentials=peer.credentials
    )
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("brokers:add") + "?broker=paper",
            {
                "broker": "paper",
                "label": "practice",
                "starting_cash": "100000",
                "price_source": "live",
            },
        )
    assert not Instrument.objects.filter(broker="paper").exists()  # nothing to derive from yet

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("brokers:connect", args=[live.pk]))  # one click
    assert response.status_code == 302
    live.refresh_from_db()
    assert live.is_connected
    assert Instrument.objects.filter(broker="angelone").exists()
    assert Instrument.objects.filter(broker="paper", canonical_symbol="SBIN").exists()


def test_a_connect_with_instruments_already_loaded_queues_nothing(
    emulator, user, django_capture_on_commit_callbacks
):
    refresh.refresh_instruments(broker="angelone")
    peer = smart_peer(emulator, store_totp=True)
    live = accounts.create_account(
        user=user, broker="angelone", label="live", credentials=peer.credentials
    )
    with django_capture_on_commit_callbacks(execute=True):
        broker_connections.connect_with_credentials(account=live, per_connect={})
    assert not readiness.is_loading("angelone")


def test_settings_shows_progress_and_polls_until_ready(client, make_user, emulator):
    admin = make_user("ops", superuser=True)
    client.force_login(admin)
    assert readiness.queue_refresh("angelone")  # queued; no worker runs it here
    page = client.get(reverse("settings")).content.decode()
    assert 'data-testid="instruments-loading-angelone"' in page
    assert 'hx-trigger="every 2s"' in page

    readiness.started("angelone")
    readiness.progressed("angelone", 500)
    fragment = client.get(reverse("marketdata:instruments"), HTTP_HX_REQUEST="true")
    assert "500 rows so far" in fragment.content.decode()

    run = refresh.refresh_instruments(broker="angelone")
    readiness.after_refresh(broker="angelone", rows=run.rows)
    fragment = client.get(reverse("marketdata:instruments"), HTTP_HX_REQUEST="true")
    body = fragment.content.decode()
    assert "AngelOne instruments: " in body and "rows, refreshed" in body
    assert "every 2s" not in body  # ready: the polling stops


def test_refresh_now_updates_the_card_without_a_reload(client, make_user):
    admin = make_user("ops", superuser=True)
    client.force_login(admin)
    cache.clear()
    response = client.post(reverse("marketdata:refresh", args=["zerodha"]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="instrument-lists"' in body
    assert 'data-testid="instruments-loading-zerodha"' in body and "every 2s" in body
    assert "Zerodha instruments: not loaded yet" not in body


def test_ensure_instruments_command_loads_what_a_fresh_install_needs(emulator, user, eager):
    """`make demo` runs it after demo_setup: AngelOne's public master loads without a
    session; a broker whose master needs a session waits for its account to connect."""
    from django.core.management import call_command

    accounts.create_account(user=user, broker="angelone", label="family", credentials={})
    accounts.create_account(user=user, broker="zerodha", label="main", credentials={})
    call_command("ensure_instruments")
    assert Instrument.objects.filter(broker="angelone").exists()
    assert not Instrument.objects.filter(broker="zerodha").exists()
    assert not readiness.is_loading("zerodha")
