"""FIFO matching of fills into round trips: pure functions, no Django, no I/O.

Fills are matched per *book*, never across books. The product class is FNO for a
derivatives exchange, else the order's product (CNC delivery, MIS intraday; an
equity NRML counts as MIS). A cash-equity delivery (CNC) book is the stock —
(account, "", exchange-level name, CNC) — not the exchange: shares bought on NSE
are the same shares when sold on BSE (the round trip names both, "NSE→BSE").
Every other book is (account, exchange, symbol, product class): intraday is
squared per exchange, a contract belongs to its exchange. A
fill first closes the book's open lots of the other side, oldest first (in a
delivery book, lots opened the same day first: a same-day buy and sell is squared
intraday); what is left opens a lot on its own side — a sell with nothing to close
opens a short, except in a delivery book: a delivery short cannot exist at a
broker, so a delivery sell beyond the known long is `Unmatched` (shares bought
before the known history: the trader imports older trades), never a round trip.

Fills of one closing order that close lots opened on the same day by the same
strategy make one round trip (average prices are quantity-weighted), so an order
filled in four parts against a buy filled in three is one row, while a sell that
closes lots of two purchase dates is two rows (their holding periods differ).

Classification (by the India dates of opening and closing):
- FNO: anything on a derivatives exchange (non-speculative business income).
- INTRADAY: opened and closed the same day (speculative; MIS or CNC alike).
- LTCG: delivery held more than 12 months (closed after open date + 12 months);
  bought on or before 31 Jan 2018 and sold on or after 1 Apr 2018 it is marked
  grandfathered (the cost may be the 31 Jan 2018 price, section 112A), the app has
  no such price and says so.
- STCG: any other delivery round trip.

Opening lots (holdings that predate tracking) enter as long lots at the start of
their `as_of` day, at the broker's average price. Without a known purchase date
the holding period is at least `close - as_of`: LTCG when that alone passes 12
months, else STCG with a note asking for the date.

Adjustments (split/bonus) apply, at the start of their ex-date, to the open lots
of every equity book of that symbol — compared by the exchange-level (canonical)
name, so "INFY" reaches fills a broker spells "INFY-EQ" (`canonical` maps a book's
(exchange, symbol) to it; trades/services.py builds the map): a split scales
quantity and price (cost and dates kept); a bonus adds a lot of the new shares at
cost 0 acquired that day.

Financial year: 1 April – 31 March, by the India close date (2025 = FY 2025-26).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

IST = ZoneInfo("Asia/Kolkata")
DERIVATIVE_EXCHANGES = frozenset({"NFO", "BFO", "MCX", "CDS", "BCD", "NCO"})
CASH_EXCHANGES = frozenset({"NSE", "BSE"})
GRANDFATHER_DATE = date(2018, 1, 31)
# Section 112A (and its grandfathering) taxes transfers from 1 April 2018; an earlier
# sale of listed shares held long term was exempt (section 10(38)): nothing to note.
SECTION_112A_FROM = date(2018, 4, 1)
ZERO = Decimal("0")

INTRADAY, STCG, LTCG, FNO = "INTRADAY", "STCG", "LTCG", "FNO"
LONG, SHORT = "LONG", "SHORT"


def product_class(exchange: str, product: str) -> str:
    if exchange.upper() in DERIVATIVE_EXCHANGES:
        return "FNO"
    return "CNC" if product == "CNC" else "MIS"


def india_date(moment: datetime) -> date:
    return moment.astimezone(IST).date()


def start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=IST)


def financial_year(day: date) -> int:
    """The year the financial year of `day` starts in (1 April – 31 March)."""
    return day.year if day.month >= 4 else day.year - 1


def fy_label(year: int) -> str:
    return f"FY {year}-{(year + 1) % 100:02d}"


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise ValueError(day)  # pragma: no cover


def classify(pclass: str, open_date: date, close_date: date, *, known: bool = True):
    """(classification, note) of a round trip."""
    if pclass == "FNO":
        return FNO, ""
    if known and open_date == close_date:
        return INTRADAY, ""
    if close_date > add_months(open_date, 12):
        return LTCG, ""
    if known:
        return STCG, ""
    return STCG, f"Held before {open_date:%d %b %Y}: set its purchase date for the holding period."


@dataclass(frozen=True)
class Fill:
    ref: object  # the Trade's id (or any label): ties fills to round trips in tests
    account: int | None
    exchange: str
    symbol: str
    product: str
    side: str  # BUY / SELL
    quantity: int
    price: Decimal
    at: datetime  # aware
    order: str = ""  # the broker order id: fills of one order close as one round trip
    strategy: str = ""
    opening: bool = False  # an opening lot (held before tracking)
    acquired: date | None = None  # an opening lot's purchase date, when known

    @property
    def book(self) -> tuple:
        return self.book_in(None)

    def book_in(self, canonical: dict | None) -> tuple:
        """The book this fill trades in; `canonical` maps (exchange, symbol) to the
        exchange-level name that joins a stock's NSE and BSE delivery fills."""
        pclass = product_class(self.exchange, self.product)
        if pclass == "CNC" and self.exchange.upper() in CASH_EXCHANGES:
            name = (canonical or {}).get((self.exchange, self.symbol), self.symbol)
            return (self.account, "", name.upper(), pclass)
        return (self.account, self.exchange, self.symbol, pclass)


@dataclass(frozen=True)
class AdjustmentSpec:
    symbol: str
    exchange: str  # "" for every exchange
    kind: str  # split / bonus
    ex_date: date
    old: int
    new: int


@dataclass
class Lot:
    side: str
    quantity: int
    price: Decimal
    at: datetime
    day: date  # the purchase (or short-sale) date the holding period counts from
    strategy: str
    opening: bool = False
    known: bool = True  # day is the real purchase date
    ref: object = None  # the opening fill's
    exchange: str = ""  # where the lot was opened (a delivery book spans NSE and BSE)
    symbol: str = ""


@dataclass
class Match:
    book: tuple
    direction: str
    exchange: str = ""  # the opening exchange, "NSE→BSE" when closed on another one
    symbol: str = ""  # as the closing fill names it
    quantity: int = 0
    open_value: Decimal = ZERO
    close_value: Decimal = ZERO
    opened_at: datetime | None = None
    closed_at: datetime | None = None
    open_date: date | None = None
    close_date: date | None = None
    strategy: str = ""
    from_opening_lot: bool = False
    classification: str = ""
    note: str = ""
    grandfathered: bool = False
    seq: int = 0
    closing_refs: list = field(default_factory=list)
    opening_refs: list = field(default_factory=list)

    @property
    def account(self):
        return self.book[0]

    @property
    def product_class(self) -> str:
        return self.book[3]

    @property
    def open_average(self) -> Decimal:
        return self.open_value / self.quantity

    @property
    def close_average(self) -> Decimal:
        return self.close_value / self.quantity

    @property
    def gross(self) -> Decimal:
        diff = self.close_value - self.open_value
        return diff if self.direction == LONG else -diff

    @property
    def financial_year(self) -> int:
        return financial_year(self.close_date)


@dataclass
class Unmatched:
    """Delivery shares sold beyond what the known history holds."""

    book: tuple
    exchange: str
    symbol: str
    quantity: int
    price: Decimal
    at: datetime
    ref: object

    @property
    def account(self):
        return self.book[0]

    @property
    def day(self) -> date:
        return india_date(self.at)

    @property
    def financial_year(self) -> int:
        return financial_year(self.day)


@dataclass
class MatchResult:
    round_trips: list[Match]
    open_lots: dict[tuple, list[Lot]]
    unmatched: list[Unmatched] = field(default_factory=list)


def _applies(adj: AdjustmentSpec, book: tuple, canonical: dict | None = None) -> bool:
    _, exchange, symbol, pclass = book
    name = (canonical or {}).get((exchange, symbol), symbol)
    names = {name.upper(), symbol.upper()}
    if not exchange:  # a delivery book: its name is the canonical one; add the spellings
        names.update(s.upper() for (_, s), n in (canonical or {}).items() if n.upper() in names)
    return (
        pclass != "FNO"
        and adj.symbol.upper() in names
        # A delivery book ("" exchange) holds the stock on NSE and BSE alike.
        and (not adj.exchange or not exchange or adj.exchange.upper() == exchange.upper())
    )


def _adjust(queues: dict[tuple, deque], adj: AdjustmentSpec, canonical: dict | None) -> None:
    if adj.old <= 0 or adj.new <= 0:
        return
    for book, queue in queues.items():
        if not queue or not _applies(adj, book, canonical):
            continue
        if adj.kind == "split":
            for lot in queue:
                value = lot.price * lot.quantity
                lot.quantity = lot.quantity * adj.new // adj.old
                lot.price = value / lot.quantity if lot.quantity else ZERO
            # A consolidation can leave a lot with no whole share (paid out in cash).
            kept = [lot for lot in queue if lot.quantity > 0]
            queue.clear()
            queue.extend(kept)
        else:  # bonus: new shares at cost 0, acquired on the ex-date
            held = sum(lot.quantity for lot in queue if lot.side == "BUY")
            extra = held * (adj.new - adj.old) // adj.old
            if extra > 0:
                strategy = queue[-1].strategy
                queue.append(Lot("BUY", extra, ZERO, start_of(adj.ex_date), adj.ex_date, strategy))


def match_fills(
    fills: Iterable[Fill],
    adjustments: Iterable[AdjustmentSpec] = (),
    *,
    canonical: dict[tuple[str, str], str] | None = None,
) -> MatchResult:
    """Round trips of `fills` (any order; sorted here by time, opening lots first).
    `canonical`: (exchange, symbol) -> the exchange-level name adjustments are given by."""
    ordered = sorted(enumerate(fills), key=lambda item: (item[1].at, not item[1].opening, item[0]))
    pending = sorted(adjustments, key=lambda a: a.ex_date)
    queues: dict[tuple, deque[Lot]] = {}
    groups: dict[tuple, Match] = {}
    unmatched: list[Unmatched] = []
    seq = 0

    for _, fill in ordered:
        while pending and start_of(pending[0].ex_date) <= fill.at:
            _adjust(queues, pending.pop(0), canonical)
        if fill.quantity <= 0:
            continue
        book = fill.book_in(canonical)
        queue = queues.setdefault(book, deque())
        day = india_date(fill.at)
        remaining = fill.quantity
        if queue and queue[0].side != fill.side and book[3] == "CNC":
            # Same-day first: a delivery sell of shares bought the same day squares that
            # buy (the exchange nets it; nothing is delivered), so it is intraday, as
            # brokers' tax reports count it, not a sale of older shares (FIFO).
            today = [lot for lot in queue if lot.day == day and not lot.opening]
            if today and today[0] is not queue[0]:
                queue = queues[book] = deque(
                    today + [lot for lot in queue if lot.day != day or lot.opening]
                )
        while remaining and queue and queue[0].side != fill.side:
            lot = queue[0]
            take = min(remaining, lot.quantity)
            direction = LONG if lot.side == "BUY" else SHORT
            close_group = fill.order or f"fill:{fill.ref}"
            opened_on = lot.exchange or fill.exchange
            key = (
                book,
                close_group,
                direction,
                lot.day,
                lot.known,
                lot.opening,
                lot.strategy,
                opened_on,
            )
            match = groups.get(key)
            if match is None:
                seq += 1
                match = groups[key] = Match(
                    book=book,
                    direction=direction,
                    exchange=(
                        opened_on if opened_on == fill.exchange else f"{opened_on}→{fill.exchange}"
                    ),
                    symbol=fill.symbol,
                    opened_at=lot.at,
                    open_date=lot.day,
                    strategy=lot.strategy,
                    from_opening_lot=lot.opening,
                    seq=seq,
                )
                match.note = "" if lot.known else "unknown"
            match.quantity += take
            match.open_value += lot.price * take
            match.close_value += fill.price * take
            match.opened_at = min(match.opened_at, lot.at)
            match.closed_at = fill.at if match.closed_at is None else max(match.closed_at, fill.at)
            match.close_date = india_date(match.closed_at)
            match.closing_refs.append(fill.ref)
            match.opening_refs.append(lot.ref)
            lot.quantity -= take
            remaining -= take
            if not lot.quantity:
                queue.popleft()
        if remaining and book[3] == "CNC" and fill.side == "SELL":
            sale = Unmatched(
                book, fill.exchange, fill.symbol, remaining, fill.price, fill.at, fill.ref
            )
            unmatched.append(sale)
            continue
        if remaining:
            if fill.opening:
                known = fill.acquired is not None
                lot_day = fill.acquired or day
            else:
                known, lot_day = True, day
            queue.append(
                Lot(
                    fill.side,
                    remaining,
                    fill.price,
                    fill.at,
                    lot_day,
                    fill.strategy,
                    opening=fill.opening,
                    known=known,
                    ref=fill.ref,
                    exchange=fill.exchange,
                    symbol=fill.symbol,
                )
            )
    for adj in pending:
        _adjust(queues, adj, canonical)

    trips = sorted(groups.values(), key=lambda m: (m.closed_at, m.seq))
    for match in trips:
        known = match.note != "unknown"
        match.classification, match.note = classify(
            match.product_class, match.open_date, match.close_date, known=known
        )
        if (
            match.classification == LTCG
            and match.open_date <= GRANDFATHER_DATE
            and match.close_date >= SECTION_112A_FROM
        ):
            match.grandfathered = True
            match.note = (
                "Bought on or before 31 Jan 2018: grandfathered (the cost may be the "
                "31 Jan 2018 price, which the app does not have)."
            )
    return MatchResult(trips, {book: list(q) for book, q in queues.items() if q}, unmatched)
