"""Reading a watchlist file: a TradingView export or a CSV, then what each row
means at one broker (the preview a user confirms before anything is saved).

TradingView exports symbols as `EXCH:SYMBOL` separated by commas or newlines;
a `###Name` entry starts a section. A CSV has a header row; the user maps its
columns (symbol, exchange, weight, quantity, note, section) and sees a preview.

Parsing is pure (text in, rows out). `preview` resolves each row through
`marketdata.resolution` for one broker and says what it found:

- resolved: the broker's instrument (its own trading symbol shown);
- ambiguous: no exchange was given and more than one exchange lists it (pick one);
- unavailable: another broker lists it, this one does not (a BSE-only scrip at
  an NSE-only account); kept, since a list is not tied to one broker;
- unknown: no broker's master has it; not imported;
- duplicate: the same exchange and symbol earlier in the file; not imported twice.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from brokers import registry
from marketdata.models import Instrument
from marketdata.resolution import SymbolNotFound, resolve

from .models import MAX_MEMBERS

MAX_IMPORT_BYTES = 1024 * 1024  # 1 MB: a 2,000-symbol list is about 30 kB
MAX_ROWS = MAX_MEMBERS
CASH_EXCHANGES = ("NSE", "BSE")
CSV_FIELDS = ("symbol", "exchange", "section", "note", "weight", "amount", "quantity")
HEADER_GUESSES = {
    "symbol": ("symbol", "ticker", "tradingsymbol", "trading_symbol", "scrip", "instrument"),
    "exchange": ("exchange", "exch", "market"),
    "section": ("section", "group", "sector"),
    "note": ("note", "notes", "comment"),
    "weight": ("weight", "weight%", "weight_pct", "allocation", "%"),
    "amount": ("amount", "value", "rs", "inr"),
    "quantity": ("quantity", "qty", "shares"),
}
SYMBOL_TEXT = re.compile(r"^[A-Za-z0-9&_.\- ]{1,64}$")


class ImportRefused(ValueError):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class Row:
    line: int
    raw: str
    exchange: str = ""
    symbol: str = ""
    section: str = ""
    note: str = ""
    weight: Decimal | None = None
    amount: Decimal | None = None
    quantity: int | None = None
    problem: str = ""  # a row that cannot be read at all


# --- Reading the bytes --------------------------------------------------------------


def check_bytes(size: int, what: str = "The file") -> None:
    if size > MAX_IMPORT_BYTES:
        raise ImportRefused(
            f"{what} is {size / 1024 / 1024:.1f} MB; the limit is "
            f"{MAX_IMPORT_BYTES // 1024 // 1024} MB ({MAX_ROWS:,} symbols a list)."
        )


def decode(data: bytes) -> str:
    """The file's text: size-checked, BOM dropped, UTF-8 (else Latin-1, which never fails
    and keeps ASCII symbols intact)."""
    check_bytes(len(data))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    return text.replace("\x00", "")


def check_size(text: str) -> str:
    """A pasted list: refused above the limit in its own words (it is not a file)."""
    data = text.encode("utf-8")
    check_bytes(len(data), what="The pasted list")
    return decode(data)


def looks_like_csv(text: str) -> bool:
    """A header row that names a symbol column: a CSV; anything else: TradingView."""
    first = next((line for line in text.lstrip("\ufeff").splitlines() if line.strip()), "")
    cells = [c.strip().strip('"').lower() for c in first.split(",")]
    return any(c in HEADER_GUESSES["symbol"] for c in cells) and ":" not in first


# --- TradingView --------------------------------------------------------------------


def split_symbol(token: str) -> tuple[str, str]:
    text = " ".join(token.strip().upper().split())
    if ":" in text:
        exchange, symbol = (part.strip() for part in text.split(":", 1))
        return exchange, symbol
    return "", text


def parse_tradingview(text: str) -> list[Row]:
    rows: list[Row] = []
    section = ""
    for number, line in enumerate(text.lstrip("\ufeff").splitlines(), start=1):
        for token in line.split(","):
            token = token.strip().strip('"').strip()
            if not token:
                continue
            if token.startswith("###"):
                section = token.lstrip("#").strip()[:80]
                continue
            rows.append(_row(number, token, *split_symbol(token), section=section))
            if len(rows) > MAX_ROWS:
                raise ImportRefused(f"More than {MAX_ROWS:,} symbols: split the list.")
    return rows


def _row(number: int, raw: str, exchange: str, symbol: str, **extra) -> Row:
    row = Row(line=number, raw=raw[:100], exchange=exchange[:10], symbol=symbol, **extra)
    if not symbol:
        row.problem = "No symbol."
    elif not SYMBOL_TEXT.match(symbol) or (exchange and not exchange.isalpha()):
        row.problem = "Not a symbol."
    return row


# --- CSV ----------------------------------------------------------------------------


def csv_header(text: str) -> tuple[list[str], list[list[str]]]:
    """The header cells and up to five sample rows (the mapping step shows them)."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    rows = [r for r in reader if any(cell.strip() for cell in r)]
    if not rows:
        raise ImportRefused("The file is empty.")
    return [h.strip() for h in rows[0]], rows[1:6]


def guess_mapping(header: list[str]) -> dict[str, str]:
    mapping = {}
    lowered = {h.strip().lower(): h for h in header}
    for name, guesses in HEADER_GUESSES.items():
        for guess in guesses:
            if guess in lowered:
                mapping[name] = lowered[guess]
                break
    return mapping


def parse_csv(text: str, mapping: dict[str, str]) -> list[Row]:
    """Rows of a CSV whose columns `mapping` names ({field: header}); symbol is required."""
    if not mapping.get("symbol"):
        raise ImportRefused("Choose the column that holds the symbol.")
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header: list[str] | None = None
    rows: list[Row] = []
    for number, cells in enumerate(reader, start=1):
        if not any(cell.strip() for cell in cells):
            continue
        if header is None:
            header = [h.strip() for h in cells]
            missing = [h for h in mapping.values() if h and h not in header]
            if missing:
                raise ImportRefused(f"No column named {missing[0]!r} in the file.")
            index = {name: header.index(h) for name, h in mapping.items() if h}
            continue
        value = {name: (cells[i].strip() if i < len(cells) else "") for name, i in index.items()}
        exchange, symbol = split_symbol(value.get("symbol", ""))
        exchange = (value.get("exchange") or exchange).strip().upper()
        row = _row(
            number,
            ",".join(cells),
            exchange,
            symbol,
            section=value.get("section", "")[:80],
            note=value.get("note", "")[:200],
        )
        for name in ("weight", "amount"):
            if value.get(name):
                number_value = _decimal(value[name])
                if number_value is None:
                    row.problem = row.problem or f"{name.title()} {value[name]!r} is not a number."
                elif number_value < 0:
                    row.problem = row.problem or (
                        f"{name.title()} {value[name]!r} must be zero or more."
                    )
                setattr(row, name, number_value)
        if value.get("quantity"):
            quantity = _decimal(value["quantity"])
            said = value["quantity"]
            if quantity is None:
                row.problem = row.problem or f"Quantity {said!r} is not a number."
            elif quantity < 0:
                row.problem = row.problem or f"Quantity {said!r} must be zero or more."
            elif quantity != quantity.to_integral_value():
                row.problem = row.problem or f"Quantity {said!r} is not a whole number."
            else:
                row.quantity = int(quantity)
        rows.append(row)
        if len(rows) > MAX_ROWS:
            raise ImportRefused(f"More than {MAX_ROWS:,} rows: split the list.")
    if header is None:
        raise ImportRefused("The file is empty.")
    return rows


def _decimal(text: str) -> Decimal | None:
    try:
        value = Decimal(text.replace(",", "").replace("%", "").replace("₹", "").strip())
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


# --- What each row means at one broker ------------------------------------------------


RESOLVED, AMBIGUOUS, UNAVAILABLE, UNKNOWN, DUPLICATE, INVALID = (
    "resolved",
    "ambiguous",
    "unavailable",
    "unknown",
    "duplicate",
    "invalid",
)
ALREADY = "already"  # in the target list already: left as it is
IMPORTED = (RESOLVED, AMBIGUOUS, UNAVAILABLE)


@dataclass
class Previewed:
    row: Row
    status: str
    exchange: str = ""  # the member's exchange and canonical symbol, when known
    symbol: str = ""
    broker_symbol: str = ""  # the broker's own trading symbol
    choices: list[str] = field(default_factory=list)  # ambiguous: exchanges to pick from
    message: str = ""

    @property
    def imported(self) -> bool:
        return self.status in IMPORTED

    @property
    def key(self) -> tuple[str, str]:
        return (self.exchange, self.symbol)


def preview(
    rows: list[Row], *, broker: str, picks: dict[int, str] | None = None
) -> list[Previewed]:
    """Each row's meaning at `broker`; `picks` = {row index: exchange} settles ambiguous rows."""
    from marketdata import readiness

    picks = picks or {}
    out: list[Previewed] = []
    seen: set[tuple[str, str]] = set()
    # Whether the broker's own list can be believed when it lacks a symbol: not while it
    # is missing or (re)loading (a symbol listed today may not be in it yet).
    unchecked = ""
    missing = readiness.is_missing(broker)
    if readiness.is_running(broker) or (missing and readiness.is_loading(broker)):
        unchecked = (
            "Not checked: this broker's instruments are still loading. "
            "Update the preview once they are loaded."
        )
    elif missing:
        unchecked = (
            "Not checked: this broker's instruments are not loaded. "
            "Refresh them (Settings), then update the preview."
        )
    for index, row in enumerate(rows):
        if row.problem:
            out.append(Previewed(row, INVALID, message=row.problem))
            continue
        item = _one(row, broker, picks.get(index), unchecked=unchecked)
        if item.imported:
            if item.key in seen:
                item = Previewed(
                    row,
                    DUPLICATE,
                    item.exchange,
                    item.symbol,
                    message="Already earlier in the file.",
                )
            seen.add(item.key)
        out.append(item)
    return out


def _one(row: Row, broker: str, pick: str | None, *, unchecked: str = "") -> Previewed:
    exchange = row.exchange
    if not exchange:
        found = {}
        for exch in CASH_EXCHANGES:
            try:
                found[exch] = resolve(broker=broker, symbol=row.symbol, exchange=exch)
            except SymbolNotFound:
                continue
        if pick in found:
            exchange = pick
        elif len(found) > 1:
            first = found[CASH_EXCHANGES[0]]
            return Previewed(
                row,
                AMBIGUOUS,
                first.exchange,
                first.canonical_symbol,
                first.trading_symbol,
                choices=list(found),
                message=f"Listed on {' and '.join(found)}: pick one.",
            )
        elif found:
            exchange = next(iter(found))
    try:
        instrument = resolve(broker=broker, symbol=row.symbol, exchange=exchange or None)
    except SymbolNotFound as exc:
        if unchecked:  # never "not available" from a list still loading, or not loaded
            return Previewed(row, UNKNOWN, exchange, row.symbol, message=unchecked)
        elsewhere = _elsewhere(row.symbol, exchange, broker)
        if elsewhere is not None:
            return Previewed(
                row,
                UNAVAILABLE,
                elsewhere.exchange,
                elsewhere.canonical_symbol,
                message=f"Not available at this broker ({elsewhere.exchange}:"
                f"{elsewhere.canonical_symbol} is listed at another); kept for other accounts.",
            )
        # This broker's loaded list lacks it, and no other broker's list knows it either:
        # said as not available here, and not imported (it may be a misspelling).
        return Previewed(
            row,
            UNKNOWN,
            exchange,
            row.symbol,
            message=f"Not available at this broker: {exc.message} No other broker lists it "
            "either, so it is not imported.",
        )
    return Previewed(
        row, RESOLVED, instrument.exchange, instrument.canonical_symbol, instrument.trading_symbol
    )


def _elsewhere(symbol: str, exchange: str, broker: str) -> Instrument | None:
    """The symbol as another broker's master lists it (same resolution rules). The other
    brokers come from the registry, not a scan of the instruments table per row."""
    for other in sorted(a.name for a in registry.all_adapters() if a.name != broker):
        try:
            return resolve(broker=other, symbol=symbol, exchange=exchange or None)
        except SymbolNotFound:
            continue
    return None


def mark_already(items: list[Previewed], *, existing: set, list_name: str) -> list[Previewed]:
    """Rows whose symbol the target list already holds: marked, counted apart, not
    imported again."""
    out = []
    for item in items:
        if item.imported and item.key in existing:
            item = Previewed(
                item.row,
                ALREADY,
                item.exchange,
                item.symbol,
                item.broker_symbol,
                message=f"Already in {list_name}.",
            )
        out.append(item)
    return out


def skipped_text(counts: dict[str, int]) -> str:
    """What the preview skips, in plain English: "1 unknown and 2 duplicates"."""
    from sigmatrader.formatting import counted, join_words

    return join_words(
        [
            f"{counts[UNKNOWN]:,} unknown" if counts[UNKNOWN] else "",
            counted(counts[DUPLICATE], "duplicate") if counts[DUPLICATE] else "",
            f"{counts[INVALID]:,} unreadable" if counts[INVALID] else "",
        ]
    )


def counts(items: list[Previewed]) -> dict[str, int]:
    statuses = (RESOLVED, AMBIGUOUS, UNAVAILABLE, UNKNOWN, DUPLICATE, INVALID, ALREADY)
    result = {s: 0 for s in statuses}
    for item in items:
        result[item.status] += 1
    result["imported"] = sum(1 for item in items if item.imported)
    return result


# --- Export ---------------------------------------------------------------------------


def tradingview_symbol(exchange: str, symbol: str) -> str:
    """TradingView writes '-' and '&' as '_' (BAJAJ-AUTO → BAJAJ_AUTO, M&M → M_M)."""
    return f"{exchange}:{symbol.replace('-', '_').replace('&', '_')}"


def _tradingview_names(members) -> dict[tuple[str, str], str]:
    """{(exchange, symbol): TradingView's name} for members TradingView spells
    otherwise: an index ("NIFTY 50" is NSE:NIFTY there), from the shared aliases."""
    from marketdata.models import SymbolAlias

    spaced = {m.symbol for m in members if " " in m.symbol}
    if not spaced:
        return {}
    names: dict[tuple[str, str], str] = {}
    aliases = SymbolAlias.objects.filter(broker=SymbolAlias.ANY_BROKER, target__in=spaced)
    for alias in aliases.order_by("pk"):  # the first alias is TradingView's own name
        names.setdefault((alias.exchange, alias.target), alias.source)
    return names


def export_tradingview(members) -> str:
    members = list(members)
    renamed = _tradingview_names(members)
    parts: list[str] = []
    section = ""
    for member in members:
        if member.section and member.section != section:
            section = member.section
            parts.append(f"###{section}")
        symbol = renamed.get((member.exchange, member.symbol), member.symbol)
        parts.append(tradingview_symbol(member.exchange, symbol))
    return ",".join(parts) + ("\n" if parts else "")


def export_csv(members) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        ["exchange", "symbol", "section", "note", "weight", "amount", "quantity", "locked"]
    )
    for m in members:
        writer.writerow(
            [
                m.exchange,
                m.symbol,
                m.section,
                m.note,
                "" if m.weight is None else m.weight,
                "" if m.amount is None else m.amount,
                "" if m.quantity is None else m.quantity,
                "yes" if m.locked else "",
            ]
        )
    return out.getvalue()
