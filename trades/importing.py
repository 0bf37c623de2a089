"""Import of trade history from the broker's own export, with a preview.

The account's adapter reads its broker's export (`read_trade_export`; the columns
and where they were checked are in each broker package's module docstring) — no
broker is named here. Steps:

1. upload (at most MAX_BYTES, UTF-8 or Windows-1252 text): the text is kept as a
   `PendingImport` of the user and the account, nothing else is written;
2. preview: every row is *new*, a *duplicate* (its trade id is already stored for
   the account — captured from the trade book or imported before — or it is a
   fill captured without a trade id with the same order, side, quantity, price
   and day), *repeated* (the same trade id earlier in this file) or *unreadable*
   (with the reason: not readable, or outside what the app stores — a quantity
   of 1 to 10,000,000 whole shares, a price above 0 and below 10,000,000 with at
   most 4 decimals, a fill worth at most ₹1,000 crore, a day no later than today,
   ids and names that fit their columns);
3. confirm: the new rows are written in one transaction (a duplicate can never be
   written twice: the (account, trade id) constraint and ON CONFLICT DO NOTHING),
   the trading days from the file's first to its last fill are recorded as
   captured (by import), and the round trips are rebuilt.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from brokers.base import ExportedTrade, ExportFormatError, NotSupported
from brokers.models import BrokerAccount
from marketdata import clock

from . import services
from .capture import mark_captured
from .models import CapturedDay, PendingImport, Trade

MAX_BYTES = 5 * 1024 * 1024
KEEP_CONFIRMED = timedelta(days=7)
KEEP_PENDING = timedelta(days=1)
NEW, DUPLICATE, REPEATED, UNREADABLE = "new", "duplicate", "repeated", "unreadable"
# What a Trade row holds (trades/models.py: PositiveIntegerField quantity, price
# DecimalField(18, 4), the id and name columns' lengths), kept well inside.
MAX_QUANTITY = 10_000_000
MAX_PRICE = Decimal("10000000")
# One fill's value (quantity × price) at most ₹1,000 crore: round trips add fills up and
# their money columns (18 digits, 4 decimals) hold below ₹10^14, so no sum overflows.
MAX_VALUE = Decimal("10000000000")
PRICE_PLACES = 4
EARLIEST_DAY = date(1990, 1, 1)  # before any electronic trade an export could hold
MAX_LENGTHS = {"trade id": 64, "order id": 64, "symbol": 64, "exchange": 10}


class ImportRefused(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class AlreadyConfirmed(ImportRefused):
    pass


@dataclass
class PreviewRow:
    line: int
    status: str
    reason: str = ""
    row: ExportedTrade | None = None

    @property
    def trade(self):
        return self.row.trade if self.row else None


@dataclass
class Preview:
    rows: list[PreviewRow]
    counts: Counter = field(default_factory=Counter)
    first_day: date | None = None
    last_day: date | None = None


def decode(data: bytes) -> str:
    if len(data) > MAX_BYTES:
        raise ImportRefused(
            f"The file is {len(data) / 1024 / 1024:.1f} MB; at most 5 MB can be imported at "
            "once. Download a shorter date range (one financial year, say) and import each."
        )
    if not data.strip():
        raise ImportRefused("The file is empty.")
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportRefused("The file is not text (a CSV was expected).")  # pragma: no cover


def export_label(account: BrokerAccount) -> str:
    return account.adapter_class.trade_export_label


def read_rows(account: BrokerAccount, text: str) -> list[ExportedTrade]:
    try:
        return account.adapter_class.read_trade_export(text)
    except NotSupported as exc:
        raise ImportRefused(f"{account.display_name} has no trade export to import.") from exc
    except ExportFormatError as exc:
        if str(exc).startswith("This looks like"):  # another broker's export: says it all
            raise ImportRefused(str(exc)) from exc
        raise ImportRefused(
            f"This is not {account.broker_label}'s {export_label(account)}. {exc}"
        ) from exc


def _signature(order_id, side, quantity, price, day) -> tuple:
    return (order_id, str(side), int(quantity), f"{price:.4f}", day)


def out_of_bounds(row: ExportedTrade, *, today: date) -> str:
    """Why a read row cannot be stored as it is ("" when it can)."""
    trade = row.trade
    if trade is None:
        return ""
    if not 1 <= trade.quantity <= MAX_QUANTITY:
        return f"quantity {trade.quantity} is not between 1 and {MAX_QUANTITY:,} shares"
    if not 0 < trade.price < MAX_PRICE:
        return f"price {trade.price} is not above 0 and below {MAX_PRICE:,}"
    if trade.price * trade.quantity > MAX_VALUE:
        return f"{trade.quantity:,} × {trade.price} is worth more than ₹1,000 crore in one fill"
    if trade.price != trade.price.quantize(Decimal(1).scaleb(-PRICE_PLACES)):
        return f"price {trade.price} has more than {PRICE_PLACES} decimals"
    if row.trade_date is not None and row.trade_date > today:
        return f"dated {row.trade_date:%d %b %Y}, in the future"
    if row.trade_date is not None and row.trade_date < EARLIEST_DAY:
        return f"dated {row.trade_date:%d %b %Y}, before {EARLIEST_DAY:%Y}: check the year"
    for name, value in (
        ("trade id", trade.trade_id),
        ("order id", trade.broker_order_id),
        ("symbol", trade.instrument.symbol),
        ("exchange", trade.instrument.exchange),
    ):
        if len(value) > MAX_LENGTHS[name]:
            return f"{name} is longer than {MAX_LENGTHS[name]} characters"
    return ""


def bounded(rows: list[ExportedTrade]) -> list[ExportedTrade]:
    """The rows, each one the app cannot store turned into an unreadable row."""
    today = clock.india_today()
    result = []
    for row in rows:
        problem = out_of_bounds(row, today=today)
        result.append(ExportedTrade(line=row.line, error=problem) if problem else row)
    return result


def preview(*, account: BrokerAccount, text: str) -> Preview:
    rows = bounded(read_rows(account, text))
    ids = [r.trade.trade_id for r in rows if r.trade]
    stored = set(
        Trade.objects.filter(account=account, broker_trade_id__in=ids).values_list(
            "broker_trade_id", flat=True
        )
    )
    days = [r.trade_date for r in rows if r.trade_date]
    unnamed = set()
    if days:
        for order_id, side, quantity, price, day in Trade.objects.filter(
            account=account,
            broker_trade_id__startswith="nofill-",
            trade_date__range=(min(days), max(days)),
        ).values_list("broker_order_id", "side", "quantity", "price", "trade_date"):
            unnamed.add(_signature(order_id, side, quantity, price, day))
    seen: set[str] = set()
    result = Preview(rows=[])
    for row in rows:
        trade = row.trade
        if trade is None:
            item = PreviewRow(row.line, UNREADABLE, row.error, row)
        elif trade.trade_id in seen:
            item = PreviewRow(row.line, REPEATED, "The same trade id earlier in this file.", row)
        elif trade.trade_id in stored:
            item = PreviewRow(row.line, DUPLICATE, "Already stored (trade book or import).", row)
        elif (
            _signature(
                trade.broker_order_id, trade.side, trade.quantity, trade.price, row.trade_date
            )
            in unnamed
        ):
            item = PreviewRow(
                row.line, DUPLICATE, "A captured fill of the same order, size, price and day.", row
            )
        else:
            item = PreviewRow(row.line, NEW, "", row)
        if trade is not None:
            seen.add(trade.trade_id)
        result.rows.append(item)
        result.counts[item.status] += 1
    if days:
        result.first_day, result.last_day = min(days), max(days)
    return result


def stage(*, user, account: BrokerAccount, data: bytes, filename: str = "") -> PendingImport:
    """Check and keep the upload for its preview; nothing else is written."""
    text = decode(data)
    if not read_rows(account, text):  # refuse a file of the wrong format at once
        raise ImportRefused("The file has no trades: it has the header row but no fill below it.")
    # Each pending import stays until it is confirmed, cancelled or KEEP_PENDING old
    # (a second upload in another tab must not discard the first preview); confirmed
    # ones are kept a while (without their text) so Back to their preview says so.
    now = timezone.now()
    PendingImport.objects.filter(user=user).filter(
        Q(confirmed_at__isnull=True, created_at__lt=now - KEEP_PENDING)
        | Q(confirmed_at__lt=now - KEEP_CONFIRMED)
    ).delete()
    return PendingImport.objects.create(
        user=user, account=account, filename=filename[:200], text=text
    )


@dataclass
class ImportResult:
    added: int
    skipped: int
    days: int


def covered_range(
    *, preview: Preview, start: date | None, end: date | None
) -> tuple[date, date] | None:
    """The days the trader says the file covers (default: its first to last fill);
    ImportRefused when they leave out one of its fills or reach past today."""
    start = start or preview.first_day
    end = end or preview.last_day
    if start is None or end is None:
        return None
    if end < start:
        raise ImportRefused("The file's first day must be on or before its last.")
    if start < EARLIEST_DAY:
        raise ImportRefused(
            f"{start:%d %b %Y} is before {EARLIEST_DAY:%Y}: check the year of the first day."
        )
    if end > clock.india_today():
        raise ImportRefused(f"{end:%d %b %Y} is in the future: the file cannot cover it.")
    if preview.first_day and (start > preview.first_day or end < preview.last_day):
        raise ImportRefused(
            f"The file has fills from {preview.first_day:%d %b %Y} to "
            f"{preview.last_day:%d %b %Y}: the days it covers must include them."
        )
    return start, end


def confirm(
    *, pending: PendingImport, covers_from: date | None = None, covers_to: date | None = None
) -> ImportResult:
    """Write the new rows of a previewed import, in one transaction. Every trading
    day from `covers_from` to `covers_to` (the export's date range, default its
    first to last fill) counts as captured."""
    account = pending.account
    with transaction.atomic():
        locked = PendingImport.objects.select_for_update().get(pk=pending.pk)
        if locked.confirmed_at is not None:  # sent twice (Back, a double click)
            raise AlreadyConfirmed("This import was already confirmed.")
        result = preview(account=account, text=pending.text)
        covered = covered_range(preview=result, start=covers_from, end=covers_to)
        new = [
            Trade(
                user_id=pending.user_id,
                account=account,
                account_name=account.display_name,
                broker_trade_id=item.trade.trade_id[:64],
                broker_order_id=item.trade.broker_order_id[:64],
                exchange=item.trade.instrument.exchange,
                symbol=item.trade.instrument.symbol,
                side=str(item.trade.side),
                quantity=item.trade.quantity,
                price=item.trade.price,
                product=str(item.trade.product),
                traded_at=item.trade.traded_at,
                trade_date=item.row.trade_date,
                origin=Trade.Origin.IMPORTED,
                time_estimated=not item.row.time_known,
            )
            for item in result.rows
            if item.status == NEW
        ]
        before = Trade.objects.filter(account=account).count()
        Trade.objects.bulk_create(new, batch_size=1000, ignore_conflicts=True)
        added = Trade.objects.filter(account=account).count() - before
        days = []
        if covered:
            days = clock.trading_days(*covered)
            mark_captured(account=account, days=days, via=CapturedDay.Via.IMPORT)
        pending.confirmed_at, pending.text = timezone.now(), ""
        pending.save(update_fields=["confirmed_at", "text"])
        services.rebuild(user=account.user, account=account)
    return ImportResult(added=added, skipped=len(result.rows) - added, days=len(days))
