"""The paper peer: a paper account priced by a connected AngelOne account on the
emulator. Simulated: its book lives in the database, so there is no remote server to
count requests at or inject faults into."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from brokers.adapter import BrokerAdapter
from brokers.base import Session

from .angelone import AngelOnePeer
from .base import Peer


@dataclass
class PaperUser:
    name: str = "Paper trading"


class PaperPeer(Peer):
    broker = "paper"
    remote = False

    @classmethod
    def make(cls, server) -> PaperPeer:
        """Needs the database (the paper book, the accounts, the instrument table)."""
        from django.contrib.auth import get_user_model

        from brokers import accounts
        from marketdata import refresh
        from marketdata.models import Instrument

        smart = AngelOnePeer.make(server)
        user = get_user_model().objects.create_user(
            f"paper-{uuid.uuid4().hex[:8]}", password="paper-pass-123456"
        )
        live = accounts.create_account(
            user=user, broker="angelone", label="live", credentials=smart.credentials
        )
        smart.connect_account(live)
        if not Instrument.objects.filter(broker="angelone").exists():
            refresh.refresh_instruments(broker="angelone")
        paper = accounts.create_account(
            user=user,
            broker="paper",
            label="paper",
            credentials={"starting_cash": "500000", "price_source": "live"},
        )
        return cls(server, dict(paper.credentials), PaperUser(), account_key=str(paper.pk))

    def symbol_of(self, inst) -> str:
        return inst.symbol  # canonical symbols

    def token_of(self, inst) -> str:
        return inst.smart_token  # the tokens of its AngelOne price source

    def login(self, adapter: BrokerAdapter) -> Session:
        return adapter.connect(per_connect={})

    def connect_account(self, account) -> None:
        from brokers import connections as broker_connections

        broker_connections.connect_with_credentials(account=account, per_connect={})

    def settle(self) -> None:
        from paper.models import PaperBook
        from tests.paper.helpers import next_day

        next_day(PaperBook.objects.get(account_id=int(self.account_key)))


PEER = PaperPeer
paper_peer = PaperPeer.make


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
