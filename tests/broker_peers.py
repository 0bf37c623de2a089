"""How the conformance suite connects each registered adapter to its peer.

A new broker adds a peer here (and its adapter to settings); the suite in
test_adapter_conformance.py then runs against it unchanged.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

import pyotp
import requests

from brokers import registry
from brokers.adapter import BrokerAdapter
from brokers.base import (
    InstrumentRef,
)
from emulator import KiteUser, SmartUser


@dataclass
class Peer:
    broker: str
    server: object
    credentials: dict
    user: object
    # False for a simulated broker (paper): no remote server to inject faults into.
    remote: bool = True
    account_key: str = ""  # a simulated broker's account (its book lives in the database)

    @property
    def adapter_class(self) -> type[BrokerAdapter]:
        return registry.get_adapter_class(self.broker)

    def adapter(self, session=None) -> BrokerAdapter:
        # A fresh account key per peer keeps rate-limit windows apart between tests.
        return self.adapter_class(
            credentials=self.credentials,
            session=session,
            account_key=self.account_key or uuid.uuid4().hex,
        )

    def ref(self, symbol: str, exchange: str = "NSE") -> InstrumentRef:
        inst = self.server.state.market.get(exchange, symbol)
        if self.broker == "paper":  # canonical symbols; tokens of its AngelOne price source
            return InstrumentRef(exchange, inst.symbol, inst.smart_token)
        broker_symbol = inst.symbol if self.broker == "zerodha" else inst.smart_symbol
        token = str(inst.kite_token) if self.broker == "zerodha" else inst.smart_token
        return InstrumentRef(exchange, broker_symbol, token)


def kite_peer(server, redirect_url="http://testserver/brokers/zerodha/callback/") -> Peer:
    user = server.state.add_kite_user(
        KiteUser(
            f"kite{uuid.uuid4().hex[:8]}",
            "kite-secret-1",
            "ZX1234",
            "kite-pass",
            redirect_url=redirect_url,
        )
    )
    return Peer("zerodha", server, {"api_key": user.api_key, "api_secret": "kite-secret-1"}, user)


def smart_peer(server, *, store_totp=False) -> Peer:
    secret = pyotp.random_base32()
    user = server.state.add_smart_user(
        SmartUser(f"key{uuid.uuid4().hex[:8]}", f"A{uuid.uuid4().hex[:6].upper()}", "4321", secret)
    )
    credentials = {"api_key": user.api_key, "client_code": user.client_code}
    if store_totp:
        credentials.update({"pin": "4321", "totp_secret": secret})
    return Peer("angelone", server, credentials, user)


def login_through_kite_page(peer: Peer, adapter, *, state="s1", password="kite-pass") -> dict:
    """Walk the emulator's Kite login page like a browser; return the callback's params."""
    page = requests.get(adapter.login_url(state=state), timeout=5)
    assert page.status_code == 200
    fields = dict(re.findall(r'name="(\w+)" value="([^"]*)"', page.text))
    answer = requests.post(
        f"{peer.server.url}/connect/login",
        data={**fields, "user_id": peer.user.user_id, "password": password},
        allow_redirects=False,
        timeout=5,
    )
    assert answer.status_code == 302, answer.text
    return dict(parse_qsl(urlsplit(answer.headers["Location"]).query))


def connect(peer: Peer):
    """A connected adapter and the Session it got."""
    adapter = peer.adapter()
    if peer.broker == "zerodha":
        session = adapter.complete_login(params=login_through_kite_page(peer, adapter))
    elif peer.broker == "paper":
        session = adapter.connect(per_connect={})
    else:
        session = adapter.connect(
            per_connect={
                "connect_pin": peer.user.pin,
                "totp": pyotp.TOTP(peer.user.totp_secret).now(),
            }
        )
    adapter.session = dict(session.data)
    return adapter, session


def connected_account(emulator, user, broker, label, default=False):
    """A connected account of `broker` for `user` on the emulator, and its peer."""
    from brokers import accounts
    from brokers import connections as broker_connections

    peer = (kite_peer if broker == "zerodha" else smart_peer)(emulator)
    account = accounts.create_account(
        user=user, broker=broker, label=label, credentials=peer.credentials
    )
    if broker == "zerodha":
        _, session = connect(peer)
        accounts.store_session(account=account, session=session, event="connected")
    else:
        broker_connections.connect_with_credentials(
            account=account,
            per_connect={
                "connect_pin": peer.user.pin,
                "totp": pyotp.TOTP(peer.user.totp_secret).now(),
            },
        )
    if default:
        type(account).objects.filter(pk=account.pk).update(is_default=True)
    account.refresh_from_db()
    return account, peer


def connected_paper_account(
    user, *, price_source="live", label="practice", starting_cash="100000", load_instruments=False
):
    """A connected paper account of `user`, priced by its account labelled `price_source`;
    with `load_instruments`, its instrument list loaded too (the price source's must be)."""
    from brokers import accounts
    from brokers import connections as broker_connections
    from marketdata import refresh

    account = accounts.create_account(
        user=user,
        broker="paper",
        label=label,
        credentials={"starting_cash": str(starting_cash), "price_source": price_source},
    )
    broker_connections.connect_with_credentials(account=account, per_connect={})
    account.refresh_from_db()
    if load_instruments:
        refresh.refresh_instruments(broker="paper")
    return account


@dataclass
class PaperUser:
    name: str = "Paper trading"


def paper_peer(server) -> Peer:
    """A paper account priced by a connected AngelOne account on the emulator.

    Needs the database (the paper book, the accounts, the instrument table)."""
    from django.contrib.auth import get_user_model

    from brokers import accounts
    from brokers import connections as broker_connections
    from marketdata import refresh
    from marketdata.models import Instrument

    smart = smart_peer(server)
    user = get_user_model().objects.create_user(
        f"paper-{uuid.uuid4().hex[:8]}", password="paper-pass-123456"
    )
    live = accounts.create_account(
        user=user, broker="angelone", label="live", credentials=smart.credentials
    )
    broker_connections.connect_with_credentials(
        account=live,
        per_connect={"connect_pin": "4321", "totp": pyotp.TOTP(smart.user.totp_secret).now()},
    )
    if not Instrument.objects.filter(broker="angelone").exists():
        refresh.refresh_instruments(broker="angelone")
    paper = accounts.create_account(
        user=user,
        broker="paper",
        label="paper",
        credentials={"starting_cash": "500000", "price_source": "live"},
    )
    return Peer(
        "paper",
        server,
        dict(paper.credentials),
        PaperUser(),
        remote=False,
        account_key=str(paper.pk),
    )


PEERS = {"zerodha": kite_peer, "angelone": smart_peer, "paper": paper_peer}
