"""Issue 12 item 6: a manual Disconnect stands until the user connects again.

Before: a paper account's price check called its disconnected AngelOne price
source, met AuthExpired, marked it "expired"; the session refresh then logged
it back in with its stored PIN + TOTP secret.
"""

from brokers import accounts, connections
from brokers.base import InstrumentRef
from brokers.models import BrokerAccount
from marketdata import refresh
from paper import prices
from tests.brokers.peers.angelone import smart_peer
from tests.brokers.peers.paper import connected_paper_account

Status = BrokerAccount.Status


def test_a_disconnected_price_source_stays_disconnected(emulator, user, settings):
    settings.MARKET_ALWAYS_OPEN = True
    peer = smart_peer(emulator, store_totp=True)  # can log in unattended
    live = accounts.create_account(
        user=user, broker="angelone", label="live", credentials=peer.credentials
    )
    connections.connect_with_credentials(account=live, per_connect={})
    refresh.refresh_instruments(broker="angelone")
    paper = connected_paper_account(user)
    live.refresh_from_db()
    assert live.status == Status.CONNECTED

    connections.disconnect(account=live)  # the user's choice

    sbin = emulator.state.market.get("NSE", "SBIN")
    ref = InstrumentRef("NSE", sbin.symbol, sbin.smart_token)
    found, problem = prices.prices(paper, [ref])
    assert ref not in found
    assert problem == "price source AngelOne · live is disconnected"

    paper.refresh_from_db()
    assert paper.status_note.startswith("Price source AngelOne · live is disconnected")

    outcomes = connections.refresh_all_sessions()
    live.refresh_from_db()
    assert live.status == Status.NOT_CONNECTED, outcomes
    assert not live.session
    assert "relogged" not in outcomes


def test_a_call_meeting_a_missing_session_does_not_mark_a_disconnected_account(emulator, user):
    peer = smart_peer(emulator, store_totp=True)
    live = accounts.create_account(
        user=user, broker="angelone", label="live", credentials=peer.credentials
    )
    connections.connect_with_credentials(account=live, per_connect={})
    connections.disconnect(account=live)
    stale = BrokerAccount.objects.get(pk=live.pk)
    accounts.mark_expired(account=stale, reason="invalid session")  # e.g. a late call
    live.refresh_from_db()
    assert live.status == Status.NOT_CONNECTED
    assert connections.refresh_session(account=live) == "kept"
    live.refresh_from_db()
    assert live.status == Status.NOT_CONNECTED
