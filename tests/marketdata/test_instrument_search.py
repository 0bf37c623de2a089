from decimal import Decimal

import pytest
from django.urls import reverse

from brokers import accounts
from brokers.base import InstrumentRow
from marketdata import refresh
from marketdata.models import InstrumentRefresh


def row(symbol, token, kind="EQ", canonical=None, name="", exchange="NSE"):
    return InstrumentRow(
        exchange=exchange,
        trading_symbol=symbol,
        token=token,
        name=name or symbol,
        instrument_type=kind,
        canonical_symbol=canonical or symbol,
        tick_size=Decimal("0.05"),
        series="EQ" if kind == "EQ" else "",
    )


@pytest.fixture
def loaded(db):
    refresh.apply_master(
        broker="angelone",
        rows=[
            row("SBIN-EQ", "3045", canonical="SBIN", name="STATE BANK OF INDIA"),
            row("SBICARD-EQ", "17971", canonical="SBICARD", name="SBI CARDS"),
            row("SBIN26DECFUT", "51234", kind="FUT", exchange="NFO"),
            row("INFY-EQ", "1594", canonical="INFY", name="INFOSYS"),
        ],
    )
    refresh.apply_master(broker="zerodha", rows=[row("SBIN", "779521", name="STATE BANK OF INDIA")])


def results(client, **params):
    return client.get(reverse("marketdata:search"), params).content.decode()


def test_search_lists_the_current_accounts_broker_best_first(signed_in, user, loaded):
    accounts.create_account(user=user, broker="angelone", label="main", credentials={})
    body = results(signed_in, q="sbi")
    assert body.index("SBIN-EQ") < body.index("SBICARD-EQ")
    assert "779521" not in body and "data-instrument" in body  # never another broker's rows
    assert "INFY" not in body
    by_name = results(signed_in, q="infosys")
    assert "INFY-EQ" in by_name


def test_account_override_is_limited_to_the_users_own_accounts(client, user, other_user, loaded):
    mine = accounts.create_account(user=user, broker="angelone", label="main", credentials={})
    theirs = accounts.create_account(
        user=other_user, broker="zerodha", label="main", credentials={}
    )
    client.force_login(user)
    body = results(client, q="SBIN", account=theirs.pk)  # ignored: not the user's account
    assert "SBIN-EQ" in body and "779521" not in body
    assert mine.is_default


def test_no_account_and_no_match_say_so(signed_in, user, loaded):
    assert "Add a broker account" in results(signed_in, q="SBIN")
    accounts.create_account(user=user, broker="angelone", label="main", credentials={})
    assert "No AngelOne instrument starts with" in results(signed_in, q="ZZZZ")


def test_settings_shows_the_last_refresh(signed_in, user, loaded):
    InstrumentRefresh.objects.create(
        broker="angelone",
        source="x",
        rows=158210,
        status="succeeded",
        finished_at="2026-11-24T02:32:00Z",
    )
    body = signed_in.get(reverse("settings")).content.decode()
    assert "AngelOne instruments: 1,58,210 rows, refreshed 08:02" in body
    assert "Zerodha instruments: not loaded yet" in body


def test_refresh_now_is_for_operators(signed_in, user, make_user, client):
    assert signed_in.post(reverse("marketdata:refresh", args=["angelone"])).status_code == 404
