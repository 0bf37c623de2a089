"""What every broker's test peer offers; each broker's own module fills it in."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import ClassVar

from brokers import registry
from brokers.adapter import BrokerAdapter
from brokers.base import InstrumentRef, Session


@dataclass
class Peer:
    """A broker's side of the tests: an emulated user, the credentials an account of
    this broker stores, and how its adapter connects. One subclass per broker, in
    tests/brokers/peers/<the adapter's name>.py."""

    broker: ClassVar[str]  # the adapter's `name`
    # The emulator's name for the broker's API (request counts, injected faults);
    # "" for a simulated broker.
    wire: ClassVar[str] = ""
    # False for a simulated broker (paper): no remote server to inject faults into.
    remote: ClassVar[bool] = True

    server: object
    credentials: dict
    user: object
    account_key: str = ""  # a simulated broker's account (its book lives in the database)

    @classmethod
    def make(cls, server, **options) -> Peer:
        """A fresh peer with its own user on the emulator `server`."""
        raise NotImplementedError

    @classmethod
    def sample_credentials(cls, label: str) -> dict:
        """Credentials an account of this broker can be created with (never connected)."""
        raise NotImplementedError

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
        return InstrumentRef(exchange, self.symbol_of(inst), self.token_of(inst))

    def symbol_of(self, inst) -> str:
        """The emulator's instrument `inst` as this broker spells its symbol."""
        raise NotImplementedError

    def token_of(self, inst) -> str:
        """The emulator's instrument `inst`'s token at this broker."""
        raise NotImplementedError

    def login(self, adapter: BrokerAdapter) -> Session:
        """Run the broker's connect flow on `adapter`; return the Session it got."""
        raise NotImplementedError

    def connect(self) -> tuple[BrokerAdapter, Session]:
        """A connected adapter and the Session it got."""
        adapter = self.adapter()
        session = self.login(adapter)
        adapter.session = dict(session.data)
        return adapter, session

    def connect_account(self, account) -> None:
        """Connect the stored `account` (created with this peer's credentials) the way
        the app does."""
        raise NotImplementedError

    def settle(self) -> None:
        """Roll the trading day over: today's delivery trades settle into holdings."""
        self.server.state.settle()
