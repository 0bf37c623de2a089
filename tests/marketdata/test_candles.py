from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pyotp
import pytest
from django.core.management import call_command

from brokers import accounts, connections
from marketdata import refresh
from marketdata.candles import fetch_candles, last_close
from marketdata.models import Candle, Instrument
from tests.brokers.peers.angelone import smart_peer

IST = ZoneInfo("Asia/Kolkata")


@pytest.fixture
def history_account(db, emulator, user):
    peer = smart_peer(emulator)
    account = accounts.create_account(
        user=user, broker="angelone", label="main", credentials=peer.credentials
    )
    connections.connect_with_credentials(
        account=account,
        per_connect={"connect_pin": peer.user.pin, "totp": pyotp.TOTP(peer.user.totp_secret).now()},
    )
    account.refresh_from_db()
    refresh.refresh_instruments(broker="angelone")
    return account


def test_fetch_stores_broker_neutral_candles_in_request_sized_spans(history_account, emulator):
    sbin = Instrument.objects.get(broker="angelone", exchange="NSE", canonical_symbol="SBIN")
    end = datetime(2026, 11, 20, 15, 30, tzinfo=IST)
    before = emulator.state.count("smartapi", "history")
    stored = fetch_candles(
        account=history_account,
        instrument=sbin,
        interval="1m",
        start=end - timedelta(days=45),
        end=end,
    )
    assert emulator.state.count("smartapi", "history") - before == 2  # 30-day spans
    assert stored == Candle.objects.filter(canonical_symbol="SBIN", interval="1m").count() > 0
    candle = Candle.objects.filter(canonical_symbol="SBIN").first()
    assert candle.exchange == "NSE" and candle.source_broker == "angelone"
    # Fetching again updates in place instead of duplicating.
    again = fetch_candles(
        account=history_account,
        instrument=sbin,
        interval="1m",
        start=end - timedelta(days=2),
        end=end,
    )
    assert again > 0
    assert Candle.objects.filter(canonical_symbol="SBIN", interval="1m").count() == stored


def test_last_close_is_the_newest_bar_or_none(history_account):
    assert last_close(exchange="NSE", canonical_symbol="SBIN") is None
    sbin = Instrument.objects.get(broker="angelone", exchange="NSE", canonical_symbol="SBIN")
    end = datetime(2026, 11, 20, 15, 30, tzinfo=IST)
    fetch_candles(
        account=history_account,
        instrument=sbin,
        interval="1d",
        start=end - timedelta(days=6),
        end=end,
    )
    newest = Candle.objects.filter(canonical_symbol="SBIN").latest("at")
    assert last_close(exchange="NSE", canonical_symbol="SBIN") == newest.close > Decimal(0)


def test_fetch_candles_command(history_account, capsys):
    call_command("fetch_candles", "NSE:SBIN", "INFY", "--interval", "1d", "--days", "10")
    out = capsys.readouterr().out
    assert "NSE:SBIN 1d:" in out and "NSE:INFY 1d:" in out and "via AngelOne · main" in out
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="1 symbol"):
        call_command("fetch_candles", "NOSUCHTHING", "--days", "2")
