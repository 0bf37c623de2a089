"""The Zerodha (Kite Connect) peer: a Kite user on the emulator, connected through
its login page and callback like a browser."""

from __future__ import annotations

import re
import uuid
from urllib.parse import parse_qsl, urlsplit

import requests

from brokers.adapter import BrokerAdapter
from brokers.base import Session
from emulator import KiteUser

from .base import Peer


class ZerodhaPeer(Peer):
    broker = "zerodha"
    wire = "kite"

    @classmethod
    def make(
        cls, server, *, redirect_url="http://testserver/brokers/zerodha/callback/"
    ) -> ZerodhaPeer:
        user = server.state.add_kite_user(
            KiteUser(
                f"kite{uuid.uuid4().hex[:8]}",
                "kite-secret-1",
                "ZX1234",
                "kite-pass",
                redirect_url=redirect_url,
            )
        )
        return cls(server, {"api_key": user.api_key, "api_secret": "kite-secret-1"}, user)

    @classmethod
    def sample_credentials(cls, label: str) -> dict:
        return {"api_key": f"key-{label}", "api_secret": "s3cret"}

    def symbol_of(self, inst) -> str:
        return inst.symbol

    def token_of(self, inst) -> str:
        return str(inst.kite_token)

    def login(self, adapter: BrokerAdapter) -> Session:
        return adapter.complete_login(params=login_through_kite_page(self, adapter))

    def connect_account(self, account) -> None:
        from brokers import accounts

        _, session = self.connect()
        accounts.store_session(account=account, session=session, event="connected")


PEER = ZerodhaPeer
kite_peer = ZerodhaPeer.make


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
