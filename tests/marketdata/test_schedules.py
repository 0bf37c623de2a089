"""Beat schedules live in the database (editable in the admin) and do their job."""

import pyotp
from django_celery_beat.models import PeriodicTask

from brokers import accounts, connections
from marketdata import refresh, tasks
from marketdata.models import Instrument
from tests.brokers.peers.angelone import smart_peer
from tests.brokers.peers.zerodha import kite_peer


def test_schedules_exist_after_migrate(db):
    sessions = PeriodicTask.objects.get(task="brokers.refresh_broker_sessions")
    assert (
        sessions.enabled and sessions.interval.every == 5 and sessions.interval.period == "minutes"
    )
    instruments = PeriodicTask.objects.get(task="marketdata.refresh_instruments")
    crontab = instruments.crontab
    assert (crontab.minute, crontab.hour, str(crontab.timezone)) == ("0", "8", "Asia/Kolkata")


def test_daily_refresh_covers_public_masters_and_brokers_with_a_connected_account(
    db, emulator, user
):
    assert refresh.brokers_to_refresh() == ["angelone"]  # public master, nobody connected
    peer = kite_peer(emulator)
    account = accounts.create_account(
        user=user, broker="zerodha", label="main", credentials=peer.credentials
    )
    _, session = peer.connect()
    accounts.store_session(account=account, session=session, event="connected")
    assert sorted(refresh.brokers_to_refresh()) == ["angelone", "zerodha"]
    outcome = tasks.refresh_instruments()
    assert outcome["angelone"] == Instrument.objects.filter(broker="angelone").count() > 2000
    assert outcome["zerodha"] == Instrument.objects.filter(broker="zerodha").count() > 2000


def test_one_brokers_failure_does_not_stop_the_others(db, emulator, user, settings):
    settings.SMARTAPI_INSTRUMENTS_URL = "http://127.0.0.1:9/none.json"  # nothing listens
    peer = smart_peer(emulator)
    account = accounts.create_account(
        user=user, broker="angelone", label="main", credentials=peer.credentials
    )
    connections.connect_with_credentials(
        account=account,
        per_connect={"connect_pin": peer.user.pin, "totp": pyotp.TOTP(peer.user.totp_secret).now()},
    )
    kite = kite_peer(emulator)
    zerodha = accounts.create_account(
        user=user, broker="zerodha", label="z", credentials=kite.credentials
    )
    _, session = kite.connect()
    accounts.store_session(account=zerodha, session=session, event="connected")
    outcome = tasks.refresh_instruments()
    assert outcome["angelone"] == "failed" and outcome["zerodha"] > 0
