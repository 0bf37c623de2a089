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
from typing import Any, ClassVar, NoReturn

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
    ExportedTrade,
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
    `session` its current session data; adapters never touch the database
    (the paper adapter is the exception: its "exchange" is database rows).
    Services never build an adapter themselves: `brokers/connections.py` does
    (`calling(account)`, which marks the account expired when a call raises
    AuthExpired).

    Units and times, everywhere in this contract: money is `Decimal` rupees
    (prices per share or unit; never float, never paise); quantities are `int`
    shares or units (lots already multiplied out), signed only where a position
    can be short; datetimes are timezone-aware (adapters return the broker's
    own zone, usually India time; the app stores UTC and shows India time).
    Every failure is one of the errors of `brokers/base.py`, whose `message`
    is shown to the user as is: never a secret in it, never a raw traceback.

    Writing an adapter
    ------------------
    A new broker is one package (see `brokers/zerodha/`), one line in
    `settings.SIGMATRADER_BROKERS` and one conformance peer in
    `tests/brokers/peers/<name>.py`; `manage.py check` validates the declarations and
    `tests/brokers/test_adapter_conformance.py` the behaviour, against the emulator.

    Declare, at minimum:

    - `name` (lower-case, stored on every account: never rename one in use),
      `label`, `connect_flow`, `credential_fields` and `capabilities`
      (what the app may offer: products, order types, varieties, validities,
      exchanges, `quote_batch_size`, and the broker's published `rate_limits`).

    Implement, at minimum:

    - the connect methods of your `connect_flow`: `login_url` and
      `complete_login` for OAUTH_REDIRECT; `connect` for CREDENTIALS_TOTP
      (and NONE);
    - `profile` (the session check), `funds`, `quotes`, `order_book`,
      `holdings`, `positions`;
    - `place_order` and `cancel_order`;
    - an instrument master: `public_instrument_master_url` plus
      `master_records` (or `parse_instrument_master`) when anyone may
      download it, else `instrument_master` with the account's session.

    Optional, each gated by what `capabilities` declares (the app never calls
    an undeclared one; the default raises NotSupported):

    - `modify_order` (`modify`), `margin_preview` / `charges_preview`
      (`margin_preview` / `charges_preview`), `create_gtt` / `list_gtts` /
      `cancel_gtt` (`gtt_kinds`), `modify_gtt` (`gtt_modify`), `candles` (`history_intervals`,
      `history_max_days`), `refresh` (`session_refresh`), `reset`
      (`resettable`);
    - `disconnect` (default: nothing to do at the broker) and `trades`
      (the day's fills, captured by `trades/capture.py`), and
      `read_trade_export` with `trade_export_label` (the broker's own trade
      history download, for the import of older fills);
    - the class-level hooks `check_credentials`, `credential_choices`,
      `status_note` and `takes_regular_orders_when_closed`.

    Rules every method keeps: each read request goes through `self.read(...)`
    (it throttles and retries; the instrument master download excepted); each
    write calls `self.throttle(EndpointClass.ORDERS)` once and is never retried
    inside the adapter; the broker's errors are mapped to the common ones, and
    anything unrecognised goes through `brokers.transport.transport_error`,
    which decides whether a request may have reached the broker (a write that
    may have reached it is OutcomeUnknown, never BrokerUnavailable).
    """

    name: ClassVar[str]  # registry key, lower-case: "paper"
    label: ClassVar[str]  # shown to people: "Paper trading"
    connect_flow: ClassVar[ConnectFlow]
    credential_fields: ClassVar[tuple[CredentialField, ...]] = ()
    capabilities: ClassVar[Capabilities] = Capabilities()
    # Templates receive adapter classes; without this Django would try to call them.
    do_not_call_in_templates: ClassVar[bool] = True
    # The trader's own trade export this adapter reads (`read_trade_export`), as the
    # import page names it, e.g. "Tradebook CSV (Reports > Tradebook)"; "" for none.
    trade_export_label: ClassVar[str] = ""
    # Its columns, as the import page lists them before any upload (required first).
    trade_export_columns: ClassVar[str] = ""

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
        connect (e.g. a reference to another of the user's accounts).

        Called by the account form (`brokers/forms.py`, its `clean`) when a
        user adds or edits an account, with the submitted values (`user` is
        the signed-in user: look only at that user's accounts). No broker
        call: a wrong key or PIN shows up at connect, as InvalidCredentials.

        Returns an empty dict when nothing is wrong. Never raises: a problem
        is a returned message, shown under its field.
        """
        return {}

    @classmethod
    def credential_choices(cls, name: str, *, user) -> list[tuple[str, str]] | None:
        """(value, label) choices for credential field `name` (a select in the form),
        or None for a typed value.

        Called by the account form (`brokers/forms.py`) for each stored (not
        per-connect) credential field when it builds the form; `user` is the
        signed-in user (offer only that user's things). No broker call.

        Never raises.
        """
        return None

    @classmethod
    def read_trade_export(cls, text: str) -> list[ExportedTrade]:
        """The rows of the broker's own trade history export (a CSV the trader
        downloads from the broker's back office), for the import of history older
        than the day-only `trades()` book.

        Called by `trades/importing.py` when `trade_export_label` is set. Pure: no
        I/O, no session. Returns one ExportedTrade per data row (a Trade with the
        broker's own trade id, order id and trading symbol as `trades()` spells
        them, or the reason the row is unreadable). Raises
        ExportFormatError when the file is not that export.
        """
        raise NotSupported("This broker has no trade export to import.")

    @classmethod
    def status_note(cls, account) -> str:
        """A line Settings shows under the account's status (e.g. a dependency's state).

        Called through `BrokerAccount.status_note` by the accounts card of the
        Settings page, once per account on every render: read the database
        at most, never the broker. "" for nothing to say.

        Never raises.
        """
        return ""

    @classmethod
    def takes_regular_orders_when_closed(cls) -> bool:
        """True when the broker accepts a regular order outside market hours and
        keeps it for the open (so the app need not offer AMO instead).

        Called by `orders/closed_market.py` before an order is sent
        (`orders/execution.py`) and when the queue offers "send as AMO". The
        default, False, makes the app hold a regular order while the market
        is closed. No broker call.

        Never raises.
        """
        return False

    def _unsupported(self, operation: str) -> NoReturn:
        raise NotSupported(f"{self.label} does not offer {operation}.")

    # Calling the broker ------------------------------------------------------------
    def throttle(self, endpoint: EndpointClass, bucket: str = "") -> None:
        """Wait for (or refuse) a slot under the broker's published limits.

        `bucket` names one endpoint of the class when the broker counts each
        endpoint separately (SmartAPI: getHolding and getPosition are 1/s
        each, not 1/s together); without it the whole class shares the windows.

        Called by the adapters themselves, right before each request: by
        `read` for reads, directly (once) by every write. The windows are
        `capabilities.rate_limits`, counted per account in the shared cache
        (`brokers/ratelimit.py`), so web and workers see one count. A slot the
        order worker already reserved (`orders/tasks.py`, `ratelimit.prepaid`)
        is used instead of a second one.

        Raises RateLimited (with `retry_after`) when no slot frees within
        BROKER_RATE_LIMIT_MAX_WAIT seconds; the request was never sent, so
        the caller may try again later, even for an order.
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

        Called by the adapters' read methods around each broker request
        (`call` takes no argument and raises the common errors). Throttles
        before every attempt, then retries up to BROKER_READ_RETRIES times,
        waiting the error's `retry_after` or 0.25 s doubling (at most 2 s).

        Returns what `call` returns. Raises the last RateLimited or
        BrokerUnavailable once the retries are spent, and any other error
        (AuthExpired, BrokerError, ...) at once: the read methods built on
        it have been retried already, so their callers do not retry again.
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
        """OAUTH_REDIRECT: where to send the browser to sign in at the broker.

        Called by `brokers/connections.py` (`start_redirect_login`) when the
        user presses Connect in Settings. `state` is signed and single-use:
        the broker must hand it back unchanged in the callback's query, which
        reaches `complete_login`. Builds a URL from the stored credentials;
        no broker call.

        Raises NotSupported unless the adapter signs in by redirect.
        """
        self._unsupported("sign-in by redirect")

    def complete_login(self, *, params: Mapping[str, str]) -> Session:
        """OAUTH_REDIRECT: turn the callback's parameters into a session.

        Called by `brokers/connections.py` (`complete_redirect_login`) from
        the broker's callback, after the `state` it carries has been checked
        and used up. `params` is the callback's query string.

        Returns the Session the account stores (encrypted); `expires_at` is
        an aware datetime (Kite: 06:00 India time the next morning) or None.

        Raises InvalidCredentials when the broker refuses the login (wrong
        secret, a cancelled login), BrokerUnavailable / RateLimited when it
        cannot be asked, NotSupported for another connect flow. Not retried:
        a broker's request token is single-use, so the user starts again.
        """
        self._unsupported("sign-in by redirect")

    def connect(self, *, per_connect: Mapping[str, str]) -> Session:
        """CREDENTIALS_TOTP: sign in with stored credentials plus PIN/TOTP.

        Called by `brokers/connections.py` (`connect_with_credentials`): from
        the connect form, with the `per_connect` fields the user typed (PIN,
        TOTP code); and unattended by the session-refresh task
        (`refresh_session`), with `per_connect={}`, when the account stores
        everything needed (e.g. a PIN and a TOTP secret). A NONE-flow adapter
        (paper) connects here too, with nothing to check.

        Returns the new Session; nothing is stored on failure.

        Raises InvalidCredentials for a wrong or missing PIN, TOTP or key
        (the form shows its message), BrokerUnavailable / RateLimited / other
        BrokerError when the broker cannot log the user in now, NotSupported
        for the redirect flow. Never retried blindly: a wrong PIN tried again
        can lock the broker account, so the refresh task waits an hour after
        a failed unattended login.
        """
        self._unsupported("sign-in with credentials")

    def refresh(self) -> Session:
        """Renew the session without the user (`capabilities.session_refresh`).

        Called by `brokers/connections.py` (`refresh_session`, run by the
        session-refresh task) when the session ends within 30 minutes, or
        its end is unknown.

        Returns the new Session (the refresh token may be kept from the old).

        Raises AuthExpired when the broker refuses to renew (the account is
        then logged in again unattended if it can be, else marked expired),
        BrokerUnavailable / RateLimited / other BrokerError when it cannot be
        asked now (recorded; tried again on the next run), NotSupported when
        the broker has no refresh.
        """
        self._unsupported("session refresh")

    def disconnect(self) -> None:
        """Log out at the broker where it supports it; never raises for that.

        Called by `brokers/connections.py` (`disconnect`) when the user
        disconnects or deletes the account. The stored session is wiped
        whatever happens here, so a failure is logged (without secrets) and
        swallowed. The default does nothing.

        Never raises.
        """

    def reset(self) -> None:
        """A simulated account back to its starting state (capabilities.resettable).

        Called by `brokers/connections.py` (`reset`) from the Settings reset
        button: orders, holdings and positions go, the cash returns to the
        starting amount.

        Raises NotSupported unless the adapter is resettable (no real broker is).
        """
        self._unsupported("a reset")

    # Reading ----------------------------------------------------------------
    def profile(self) -> Profile:
        """Who the session belongs to: the cheapest call that proves it works.

        Called by `brokers/connections.py` (`check`): the Settings "Check"
        button and the admin's check action. `broker_user_id` (the broker's
        client id), when not empty, is stored on the account.

        Raises AuthExpired when the session is gone (the account is marked
        expired), BrokerUnavailable / RateLimited after `read`'s retries, any
        other BrokerError for a refusal. A read: already retried.
        """
        self._unsupported("profile")

    def funds(self) -> Funds:
        """The account's equity funds now, in Decimal rupees.

        Called by `portfolio/sync.py` (each portfolio sync stores the cash the
        order queue checks against), `portfolio/dashboard.py` (a cash tile)
        and the account's funds fragment in Settings (`brokers/views.py`).

        Returns `available_cash`: what can be used for a new order now (the
        broker's "net", margin already used taken off); `used_margin`;
        `net`; `collateral` (pledged holdings' margin, 0 when none).

        Raises AuthExpired, BrokerUnavailable / RateLimited after `read`'s
        retries, BrokerError. A read: already retried; the portfolio sync
        keeps holdings and positions when only funds fail.
        """
        self._unsupported("funds")

    def quotes(self, instruments: list[InstrumentRef]) -> dict[InstrumentRef, Quote]:
        """Last prices of `instruments`, as this broker names them (symbol and token).

        Called by `marketdata/quotes.py` (`ltp`: the price of a MARKET order
        for risk checks and previews, conditional-order triggers),
        `marketdata/live.py` (the live prices of pages) and `paper/prices.py`
        (a paper account's price source). Any number of instruments: split
        them into `capabilities.quote_batch_size` per request.

        Returns a dict keyed by the very InstrumentRef objects passed in; an
        instrument the broker did not price is left out (not an error).
        `last_price` and `close` (the previous session's close) are Decimal
        rupees; `volume` the day's volume or None; callers ignore a price of
        0 or less.

        Raises AuthExpired, BrokerUnavailable / RateLimited after `read`'s
        retries, BrokerError (e.g. AngelOne: an instrument without its
        token). A read: already retried.
        """
        self._unsupported("quotes")

    def order_book(self) -> list[BrokerOrder]:
        """Every order of the account for the trading day, in the app's words.

        Called by `orders/sync.py` (`sync_account`): every sync cycle for
        accounts with live orders, and before an order whose placement had no
        clear answer may be sent again (`reconcile_before_resending`). The
        sync matches rows by `broker_order_id`, or by `tag`: the tag sent
        with `place_order` must come back here, or a placement that timed out
        can never be found and is marked "not received".

        Returns today's orders (real brokers keep only the day's book),
        whatever their state; `status` mapped row by row (an unknown word is
        PENDING, logged), `broker_status` the broker's own word;
        `quantity` / `filled_quantity` int; prices Decimal rupees or None;
        `placed_at` / `updated_at` aware datetimes or None (AngelOne gives
        none). Must be the whole book or raise: a row left out looks to the
        sync like an order the broker never received.

        Raises AuthExpired, BrokerUnavailable / RateLimited after `read`'s
        retries, BrokerError. A read: already retried; the sync tries again
        next cycle.
        """
        self._unsupported("the order book")

    def trades(self) -> list[Trade]:
        """The day's fills (the trade book), one row per fill.

        Called by `trades/capture.py` (on a fill, and after the close) to store
        every fill; the conformance suite checks it, so a fill can be traced to
        its order by `broker_order_id`.

        Returns `quantity` int, `price` Decimal rupees (the fill's price),
        `traded_at` an aware datetime, or None when the broker gives no time.

        Raises AuthExpired, BrokerUnavailable / RateLimited after `read`'s
        retries, BrokerError. A read: already retried.
        """
        self._unsupported("trades")

    def holdings(self) -> list[Holding]:
        """The demat holdings (delivery shares), one row per instrument.

        Called by `portfolio/sync.py` (each portfolio sync replaces the
        account's stored holdings with this list) and `orders/risk.py` (how
        much of an instrument the account holds, with its positions, before a
        sell is sent).

        Returns `quantity` int including the T1 shares (bought on the
        previous trading day, not yet delivered), which are also given alone
        in `t1_quantity`; shares bought with margin (MTF) are a separate lot
        in `mtf_quantity`, not in `quantity`. Today's delivery buys are
        positions, not holdings, until they settle. `average_price`,
        `last_price`, `close_price`, `pnl`, `day_change` are Decimal rupees
        (`pnl` None: the app works it out). Must be the whole list or raise:
        what is missing is deleted from the portfolio.

        Raises AuthExpired, BrokerUnavailable / RateLimited after `read`'s
        retries, BrokerError. A read: already retried.
        """
        self._unsupported("holdings")

    def positions(self) -> list[Position]:
        """The net positions of the day, one row per instrument and product.

        Called by `portfolio/sync.py` (replaces the stored positions) and
        `orders/risk.py` (open positions, and what a sell may take).

        Returns `quantity`: the net quantity, signed int (negative: short),
        carried-forward quantity included (`overnight_quantity` alone);
        `buy_quantity` / `sell_quantity` and their `day_` parts; prices and
        P&L (`pnl` = `realised` + `unrealised`; `m2m`) in Decimal rupees. A
        delivery (CNC) buy of today is a position here; a sale out of
        holdings today is a negative CNC position while the holding keeps
        its quantity until settlement. Must be the whole list or raise: a
        row without a price is an error (BrokerUnavailable), never a P&L of 0.

        Raises AuthExpired, BrokerUnavailable / RateLimited after `read`'s
        retries, BrokerError. A read: already retried.
        """
        self._unsupported("positions")

    def candles(
        self, instrument: InstrumentRef, *, interval: str, start: datetime, end: datetime
    ) -> list[Candle]:
        """Historical bars of one instrument (`capabilities.history_intervals`).

        Called by `marketdata/candles.py` (`fetch_candles`, from the
        `fetch_candles` command), one call per span of at most
        `capabilities.history_max_days[interval]` days. `interval` is the
        app's word (1m 3m 5m 10m 15m 30m 1h 1d); `start` / `end` are aware
        datetimes (the adapter converts them to the broker's zone).

        Returns the bars in the span: `at` the bar's start as an
        aware datetime (India time from both brokers), prices Decimal rupees,
        `volume` int. Stored by (exchange, symbol, interval, at), so a
        repeated span overwrites, never duplicates.

        Raises NotSupported for an interval the broker lacks (or no history
        at all), BrokerError when the instrument lacks the token the broker
        needs, AuthExpired, BrokerUnavailable / RateLimited after `read`'s
        retries. A read: already retried.
        """
        self._unsupported("historical candles")

    def instrument_master(self) -> Iterator[InstrumentRow]:
        """Download this broker's master with the account's session, row by row.

        Called by `marketdata/refresh.py` (`open_master`) only when the broker
        has no public master (`public_instrument_master_url()` is None) and
        no file or URL was given, with the most recently checked connected
        account. A generator: errors surface while iterating. Rows are
        normalised InstrumentRows (`lot_size` int, `tick_size` / `strike`
        Decimal rupees, `expiry` a date); stream them, never load lakhs of
        rows into a list.

        Raises AuthExpired, BrokerUnavailable (not retried: the refresh fails
        whole, keeping the old master, and runs again on schedule),
        MasterFormatError naming the first bad row, NotSupported by default.
        """
        self._unsupported("an instrument master")

    @classmethod
    def public_instrument_master_url(cls) -> str | None:
        """A master anyone may download (no session), or None.

        Called by `marketdata/refresh.py` (which brokers to refresh, and
        where to download from) and the `ensure_instruments` command. When
        it gives a URL, `master_records` parses the download.

        Never raises.
        """
        return None

    @classmethod
    def parse_instrument_master(cls, stream) -> Iterator[InstrumentRow]:
        """Parse the broker's master format from a binary stream (file or download),
        raising MasterFormatError that names the first bad row.

        Called by the default `master_records` and by adapters'
        `instrument_master`; the master refresh itself reads `master_records`.
        Returns InstrumentRows lazily (lot sizes int, tick sizes and strikes
        Decimal rupees).

        Raises MasterFormatError (nothing is applied: a half-read master is
        never written), NotSupported when the adapter has no parser.
        """
        raise NotSupported(f"{cls.label} has no instrument master parser.")

    @classmethod
    def master_records(cls, stream):
        """The master as raw records (brokers.records.MasterRecords), so a refresh
        maps only records that changed. By default: the parsed rows themselves.

        Called by `marketdata/refresh.py` (`open_master`) for a file or a
        download. The records' `salt` names the mapping version: change it
        when the same record maps differently, and every row is re-mapped once.

        Raises MasterFormatError (while the records are read: the refresh
        applies nothing), NotSupported when the adapter has no parser.
        """
        return rows_as_records(cls.parse_instrument_master(stream), salt=cls.name)

    # Orders ----------------------------------------------------------------
    def place_order(self, order: OrderRequest) -> str:
        """Return the broker's order id. Raises OrderRejected / OutcomeUnknown / ...

        Called only by `orders/execution.py` (`execute`, through `_place`), after
        the order was claimed once (SENDING) in the database: every path that
        sends an order (queue, webhook, holdings actions, conditional
        triggers) goes through it. `order.tag` is unique per order and must be
        sent so `order_book` can show it back: it is how a placement without
        a clear answer is found. Quantity is an int of shares or units,
        prices Decimal rupees; the request uses only what `capabilities`
        declares. Call `self.throttle(EndpointClass.ORDERS)` once, then send
        once: never retry inside the adapter.

        Returns the broker's order id (str, never empty: no id in a success
        answer is OutcomeUnknown).

        Raises, and what the caller does (never a blind resend):

        - OrderRejected: refused, not placed (the order becomes REJECTED);
        - OutcomeUnknown: may or may not have been placed (a timeout or an
          error after sending): the order becomes UNKNOWN and only the order
          sync decides, by its tag. Never resent;
        - RateLimited: refused before it was processed (our own limiter, or the
          broker's 429): the only resend, waited out while
          BROKER_RATE_LIMIT_MAX_WAIT lasts;
        - BrokerUnavailable: only when nothing can have reached the broker
          (no connection made, see `brokers.transport.never_sent`); the
          order becomes FAILED and the trader may send it again;
        - AuthExpired: the account is marked expired, the order FAILED;
        - NotSupported, other BrokerError: FAILED, with the message.

        Any other exception after the send began is treated as UNKNOWN.
        """
        self._unsupported("order placement")

    def modify_order(self, broker_order_id: str, change: OrderChange, *, variety: Variety) -> None:
        """Change an open order at the broker (`capabilities.modify`).

        Called by `orders/actions.py` (`modify`) when the trader edits an open
        order, after the change passed a new order's checks. `change` sets
        only the fields that change (quantity int, prices Decimal rupees);
        `variety` is the order's (brokers address an AMO differently).
        Throttled once, sent once.

        Returns None once the broker accepted the change; the app then saves
        it, and the order sync shows the order's new state.

        Raises OrderRejected when the broker refuses (nothing changed),
        OutcomeUnknown when the change may or may not have been applied (the
        order sync copies the quantity, price and trigger price that
        `order_book` shows back onto the open order), BrokerUnavailable when
        nothing reached the broker, RateLimited, AuthExpired, NotSupported.
        Never retried by the app: the trader sees the message and decides.
        """
        self._unsupported("order modification")

    def cancel_order(self, broker_order_id: str, *, variety: Variety) -> None:
        """Cancel an open order at the broker.

        Called by `orders/actions.py` (`cancel`) when the trader cancels an
        order the broker has. `variety` is the order's. Throttled once, sent
        once.

        Returns None once the broker accepted the request; the order becomes
        CANCELLED when the order sync sees it so (it may fill first).

        Raises OrderRejected when the broker refuses (e.g. already filled),
        OutcomeUnknown when the cancel may or may not have reached it (the
        sync shows the truth), BrokerUnavailable, RateLimited, AuthExpired.
        Never retried by the app: the trader may press Cancel again.
        """
        self._unsupported("order cancellation")

    def margin_preview(self, orders: list[OrderRequest]) -> MarginPreview:
        """The margin `orders` would block (`capabilities.margin_preview`).

        Called by `orders/queue.py` (the order preview the trader opens from
        the queue) with one order; a MARKET order carries an estimated price.
        Places nothing.

        Returns `total` (all orders) and `charges` in Decimal rupees, with an
        optional `breakdown`.

        Raises NotSupported when not declared, AuthExpired, BrokerUnavailable
        / RateLimited after `read`'s retries, BrokerError (the preview shows
        the message; paper: OrderRejected when it has no price). A read:
        already retried, safe to ask again.
        """
        self._unsupported("a margin preview")

    def charges_preview(self, orders: list[OrderRequest]) -> ChargesPreview:
        """The charges `orders` would cost (`capabilities.charges_preview`).

        Called by `orders/queue.py` (the order preview), only for an order
        with a price (never charges on a price of 0). Places nothing.

        Returns `total` in Decimal rupees and a `breakdown` by charge
        (brokerage, STT, exchange, SEBI, stamp duty, GST).

        Raises NotSupported when not declared, AuthExpired, BrokerUnavailable
        / RateLimited after `read`'s retries, BrokerError. A read: already
        retried, safe to ask again.
        """
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
        """Arm a GTT (good-till-triggered) order at the broker (`capabilities.gtt_kinds`).

        Called by `orders/conditional.py` (`arm`) inside `orders/execution.py`
        (`execute`), after the order was claimed once. `kind` SINGLE has one
        trigger value and one leg; OCO two of each, the stop-loss leg (price
        at or below) first. `trigger_values` and `last_price` (the anchor the
        broker checks the triggers against) are Decimal rupees; legs are
        LIMIT orders with a price (the Kite adapter refuses a leg without
        one). Throttled once, sent once.

        Returns the broker's GTT id (str), which `list_gtts` and `cancel_gtt`
        use.

        Raises OrderRejected (refused, nothing armed), OutcomeUnknown (may be
        armed: never resend; the order sync looks for it in `list_gtts`, as a
        GTT has no client tag), BrokerUnavailable (nothing reached the broker),
        RateLimited, AuthExpired, NotSupported for an undeclared kind.
        """
        self._unsupported("GTT orders")

    def list_gtts(self) -> list[GttOrder]:
        """The account's GTTs at the broker, with what became of each.

        Called by `orders/triggers.py` (`sync_native_gtts`, every trigger
        cycle) for accounts with armed native GTTs. A GTT missing from the
        list keeps its order armed; any other status than "active" settles it.
        Also by `orders/sync.py` (through `orders/conditional.py`,
        `reconcile_gtts`) for a GTT whose `create_gtt` had no clear answer: a
        matching active GTT no other order holds is adopted, none after the
        grace means it was not armed. So the list must hold every active GTT.

        Returns `status` in the app's words (active / triggered / cancelled /
        expired / rejected); per leg, in the order given to `create_gtt`:
        `triggered_order_ids` (the broker order placed, "" for a leg that did
        not fire) and `leg_results` (a leg whose order the broker failed to
        place); prices Decimal rupees.

        Raises AuthExpired, BrokerUnavailable / RateLimited after `read`'s
        retries, BrokerError, NotSupported without GTTs. A read: already
        retried; the next cycle tries again.
        """
        self._unsupported("GTT orders")

    def modify_gtt(
        self,
        gtt_id: str,
        *,
        kind: GttKind,
        instrument: InstrumentRef,
        trigger_values: list[Decimal],
        last_price: Decimal,
        legs: list[OrderRequest],
    ) -> None:
        """Change an armed GTT in place (`capabilities.gtt_modify`): its trigger
        values and leg prices move, its id stays.

        Called by the trailing stop (`protection/`, issue 18) to tighten an
        armed native GTT's stop; the app stores the new levels only after this
        returns. The arguments mean what they mean for `create_gtt` and
        replace the whole GTT (the broker keeps none of the old values, so
        send both legs of an OCO even when one moves): `kind` SINGLE has one
        trigger value and one leg, OCO two of each, stop-loss leg first;
        `trigger_values` and `last_price` (the anchor the broker checks the
        triggers against) Decimal rupees; legs LIMIT orders with a price.
        Throttled once, sent once.

        Returns None once the broker accepted it (`list_gtts` shows the new
        values under the same `gtt_id`).

        Raises OrderRejected when the broker refuses (nothing changed: the GTT
        already fired, was cancelled or deleted, an unknown id, bad values),
        OutcomeUnknown when the change may or may not have reached the broker
        (a write: the GTT sync shows the result), BrokerUnavailable (nothing
        reached the broker), RateLimited, AuthExpired, NotSupported when not
        declared. A write: never retried by the app.
        """
        self._unsupported("changing an armed GTT")

    def cancel_gtt(self, gtt_id: str) -> None:
        """Delete an armed GTT at the broker.

        Called by `orders/conditional.py` (`cancel_armed`) when the trader
        cancels an armed native GTT (`orders/actions.py`); the order (and its
        OCO sibling) is cancelled here only after this returns.

        Returns None once the broker accepted it.

        Raises OrderRejected / BrokerError when the broker refuses (e.g. the
        GTT already fired), OutcomeUnknown when the delete may or may not have
        reached it (a write: the GTT sync shows the result), BrokerUnavailable
        (nothing reached the broker), RateLimited, AuthExpired, NotSupported
        without GTTs. Never retried by the app: the trader may cancel again.
        """
        self._unsupported("GTT orders")
