"""The broker plugin contract: `BrokerAdapter`, the base class of every broker.

One subclass per broker, registered by dotted path in `SIGMATRADER_BROKERS`
(`brokers/registry.py`). Its methods are the contract: each says who calls
it, what it returns and what it raises. The vocabulary they speak is
`brokers/base.py`; rate limits are `brokers/ratelimit.py`.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar

from django.conf import settings

from . import ratelimit
from .base import (
    BrokerOrder,
    BrokerUnavailable,
    Candle,
    Capabilities,
    ChargesPreview,
    ConnectFlow,
    CredentialField,
    EndpointClass,
    Funds,
    GttKind,
    GttOrder,
    Holding,
    InstrumentRef,
    InstrumentRow,
    MarginPreview,
    NotSupported,
    OrderChange,
    OrderRequest,
    Position,
    Profile,
    Quote,
    RateLimited,
    Session,
    Trade,
    Variety,
)
from .records import rows_as_records


class BrokerAdapter:
    """Base class of every broker. One instance serves one account's calls.

    `credentials` are the account's stored (decrypted) credential values and
    `session` its current session data; adapters never touch the database.
    """

    name: ClassVar[str]  # registry key, lower-case: "paper"
    label: ClassVar[str]  # shown to people: "Paper trading"
    connect_flow: ClassVar[ConnectFlow]
    credential_fields: ClassVar[tuple[CredentialField, ...]] = ()
    capabilities: ClassVar[Capabilities] = Capabilities()
    # Templates receive adapter classes; without this Django would try to call them.
    do_not_call_in_templates: ClassVar[bool] = True

    def __init__(
        self,
        *,
        credentials: Mapping[str, Any],
        session: Mapping[str, Any] | None = None,
        account_key: str = "",
    ):
        self.credentials = dict(credentials)
        self.session = dict(session or {})
        self.account_key = account_key  # scopes rate limits to one account

    @classmethod
    def check_credentials(cls, values: Mapping[str, str], *, user) -> dict[str, str]:
        """Field name -> problem, for values the adapter can judge before any
        connect (e.g. a reference to another of the user's accounts)."""
        return {}

    @classmethod
    def credential_choices(cls, name: str, *, user) -> list[tuple[str, str]] | None:
        """(value, label) choices for credential field `name` (a select in the form),
        or None for a typed value."""
        return None

    @classmethod
    def status_note(cls, account) -> str:
        """A line Settings shows under the account's status (e.g. a dependency's state)."""
        return ""

    @classmethod
    def takes_regular_orders_when_closed(cls) -> bool:
        """True when the broker accepts a regular order outside market hours and
        keeps it for the open (so the app need not offer AMO instead)."""
        return False

    def _unsupported(self, operation: str):
        raise NotSupported(f"{self.label} does not offer {operation}.")

    # Calling the broker ------------------------------------------------------------
    def throttle(self, endpoint: EndpointClass, bucket: str = "") -> None:
        """Wait for (or refuse) a slot under the broker's published limits.

        `bucket` names one endpoint of the class when the broker counts each
        endpoint separately (SmartAPI: getHolding and getPosition are 1/s
        each, not 1/s together); without it the whole class shares the windows.
        """
        limits = self.capabilities.rate_limits.get(endpoint)
        if not limits:
            return
        scope = ratelimit.scope_for(self.name, self.account_key)
        name = f"{endpoint}:{bucket}" if bucket else endpoint
        if ratelimit.consume_prepaid(scope, name):
            return  # the worker reserved this call's slot before claiming the order
        ratelimit.acquire(
            scope=scope,
            endpoint=name,
            limits=limits,
            max_wait=settings.BROKER_RATE_LIMIT_MAX_WAIT,
        )

    def read(self, endpoint: EndpointClass, call, bucket: str = ""):
        """Run a read, retrying with backoff on RateLimited / BrokerUnavailable.

        Only for reads: order placement goes through `throttle` once and is
        never retried (see OutcomeUnknown).
        """
        retries = settings.BROKER_READ_RETRIES
        for attempt in range(retries + 1):
            self.throttle(endpoint, bucket)
            try:
                return call()
            except (RateLimited, BrokerUnavailable) as exc:
                if attempt == retries:
                    raise
                wait = exc.retry_after if exc.retry_after else 0.25 * 2**attempt
                time.sleep(min(wait, 2.0))

    # Connecting ----------------------------------------------------------------
    def login_url(self, *, state: str) -> str:
        """OAUTH_REDIRECT: where to send the browser to sign in at the broker."""
        self._unsupported("sign-in by redirect")

    def complete_login(self, *, params: Mapping[str, str]) -> Session:
        """OAUTH_REDIRECT: turn the callback's parameters into a session."""
        self._unsupported("sign-in by redirect")

    def connect(self, *, per_connect: Mapping[str, str]) -> Session:
        """CREDENTIALS_TOTP: sign in with stored credentials plus PIN/TOTP."""
        self._unsupported("sign-in with credentials")

    def refresh(self) -> Session:
        self._unsupported("session refresh")

    def disconnect(self) -> None:
        """Log out at the broker where it supports it; never raises for that."""

    def reset(self) -> None:
        """A simulated account back to its starting state (capabilities.resettable)."""
        self._unsupported("a reset")

    # Reading ----------------------------------------------------------------
    def profile(self) -> Profile:
        self._unsupported("profile")

    def funds(self) -> Funds:
        self._unsupported("funds")

    def quotes(self, instruments: list[InstrumentRef]) -> dict[InstrumentRef, Quote]:
        self._unsupported("quotes")

    def order_book(self) -> list[BrokerOrder]:
        self._unsupported("the order book")

    def trades(self) -> list[Trade]:
        self._unsupported("trades")

    def holdings(self) -> list[Holding]:
        self._unsupported("holdings")

    def positions(self) -> list[Position]:
        self._unsupported("positions")

    def candles(
        self, instrument: InstrumentRef, *, interval: str, start: datetime, end: datetime
    ) -> list[Candle]:
        self._unsupported("historical candles")

    def instrument_master(self) -> Iterator[InstrumentRow]:
        """Download this broker's master with the account's session, row by row."""
        self._unsupported("an instrument master")

    @classmethod
    def public_instrument_master_url(cls) -> str | None:
        """A master anyone may download (no session), or None."""
        return None

    @classmethod
    def parse_instrument_master(cls, stream) -> Iterator[InstrumentRow]:
        """Parse the broker's master format from a binary stream (file or download),
        raising MasterFormatError that names the first bad row."""
        raise NotSupported(f"{cls.label} has no instrument master parser.")

    @classmethod
    def master_records(cls, stream):
        """The master as raw records (brokers.records.MasterRecords), so a refresh
        maps only records that changed. By default: the parsed rows themselves."""
        return rows_as_records(cls.parse_instrument_master(stream), salt=cls.name)

    # Orders ----------------------------------------------------------------
    def place_order(self, order: OrderRequest) -> str:
        """Return the broker's order id. Raises OrderRejected / OutcomeUnknown / ..."""
        self._unsupported("order placement")

    def modify_order(self, broker_order_id: str, change: OrderChange, *, variety: Variety) -> None:
        self._unsupported("order modification")

    def cancel_order(self, broker_order_id: str, *, variety: Variety) -> None:
        self._unsupported("order cancellation")

    def margin_preview(self, orders: list[OrderRequest]) -> MarginPreview:
        self._unsupported("a margin preview")

    def charges_preview(self, orders: list[OrderRequest]) -> ChargesPreview:
        self._unsupported("a charges preview")

    def create_gtt(
        self,
        *,
        kind: GttKind,
        instrument: InstrumentRef,
        trigger_values: list[Decimal],
        last_price: Decimal,
        legs: list[OrderRequest],
    ) -> str:
        self._unsupported("GTT orders")

    def list_gtts(self) -> list[GttOrder]:
        self._unsupported("GTT orders")

    def cancel_gtt(self, gtt_id: str) -> None:
        self._unsupported("GTT orders")
