"""The AngelOne (SmartAPI) peer: a SmartAPI user on the emulator, connected with its
PIN and a fresh TOTP."""

from __future__ import annotations

import uuid

import pyotp

from brokers.adapter import BrokerAdapter
from brokers.base import Session
from emulator import SmartUser

from .base import Peer


class AngelOnePeer(Peer):
    broker = "angelone"
    wire = "smartapi"

    @classmethod
    def make(cls, server, *, store_totp=False) -> AngelOnePeer:
        secret = pyotp.random_base32()
        user = server.state.add_smart_user(
            SmartUser(
                f"key{uuid.uuid4().hex[:8]}", f"A{uuid.uuid4().hex[:6].upper()}", "4321", secret
            )
        )
        credentials = {"api_key": user.api_key, "client_code": user.client_code}
        if store_totp:
            credentials.update({"pin": "4321", "totp_secret": secret})
        return cls(server, credentials, user)

    @classmethod
    def sample_credentials(cls, label: str) -> dict:
        return {"api_key": f"key-{label}", "client_code": f"C{label.upper()}"}

    def symbol_of(self, inst) -> str:
        return inst.smart_symbol

    def token_of(self, inst) -> str:
        return inst.smart_token

    def per_connect(self) -> dict:
        """What the user types at each connect: the PIN and the current TOTP."""
        return {"connect_pin": self.user.pin, "totp": pyotp.TOTP(self.user.totp_secret).now()}

    def login(self, adapter: BrokerAdapter) -> Session:
        return adapter.connect(per_connect=self.per_connect())

    def connect_account(self, account) -> None:
        from brokers import connections as broker_connections

        broker_connections.connect_with_credentials(account=account, per_connect=self.per_connect())


PEER = AngelOnePeer
smart_peer = AngelOnePeer.make
