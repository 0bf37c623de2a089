"""Capture each account's fills from its trade book (`BrokerAdapter.trades()`).

One path for every broker (paper's adapter answers from its own fills). When:
- an order fills: `orders.signals.order_filled` -> `on_order_filled` queues
  `trades.capture_account` once per TRADES_CAPTURE_DEBOUNCE_SECONDS per account;
- after the close: the beat task `trades.end_of_day` captures every connected
  account, so a day with fills placed outside the app is still read.

Idempotent: a fill is unique per (account, broker trade id) in the database and
inserted with ON CONFLICT DO NOTHING, so the same book read twice, or a crash
between two reads, adds nothing. A fill without a trade id gets a stable one made
from its order id, side, quantity, price and time.

Brokers return today's trades only: every successful read records the India day
as captured (`CapturedDay`); `missed_days` lists the trading days (weekdays that
are not NSE holidays, marketdata.clock) since tracking began that no read or
import covers. The first read of an account takes its stored holdings
(portfolio's last sync) as opening lots (trades/services.py).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from brokers.base import AuthExpired, BrokerError
from brokers.base import Trade as BrokerTrade
from brokers.connections import calling
from brokers.models import BrokerAccount
from marketdata import clock
from orders.models import Order
from sigmatrader.queueing import enqueue

from . import services
from .models import CapturedDay, Trade

logger = logging.getLogger(__name__)
END_OF_DAY_GRACE = timedelta(hours=1)  # the beat reads every book 20 minutes after the close


@dataclass
class CaptureResult:
    account_id: int
    read: int = 0
    added: int = 0
    error: str = ""


def debounce_seconds() -> int:
    return settings.TRADES_CAPTURE_DEBOUNCE_SECONDS


def on_order_filled(sender, account_id, **kwargs) -> None:
    """Receiver of orders.signals.order_filled: queue one capture of the account."""
    try:
        window = debounce_seconds()
        if cache.add(f"trades:capture-queued:{account_id}", 1, timeout=window):
            enqueue("trades.capture_account", account_id, countdown=window)
    except Exception:  # the fill is recorded whatever happens here; end of day reads it
        logger.exception("could not queue a trade capture for account %s", account_id)


def trade_id_of(row: BrokerTrade) -> str:
    if row.trade_id:
        return row.trade_id
    basis = "|".join(
        [row.broker_order_id, str(row.side), str(row.quantity), str(row.price), str(row.traded_at)]
    )
    return "nofill-" + hashlib.sha256(basis.encode()).hexdigest()[:24]


def capture_account(account: BrokerAccount, *, rebuild: bool = False) -> CaptureResult:
    """Read the account's trade book and store its new fills; never raises for a
    broker's trouble (the result says it). The round trips are rebuilt when fills
    were added (or on the first read, or with `rebuild`: the end of day always
    rebuilds, so a crash between storing fills and matching them heals by then)."""
    result = CaptureResult(account_id=account.pk)
    try:
        with calling(account) as adapter:
            rows = adapter.trades()
    except AuthExpired as exc:
        result.error = f"Session expired: reconnect {account.display_name}. ({exc.message})"
        return result
    except BrokerError as exc:
        result.error = exc.message
        return result
    now = timezone.now()
    today = clock.india_today(now)
    result.read = len(rows)
    # The first read of the book (an import before it does not count: the opening lots
    # are reduced by imported history dated before them, trades/services.py).
    first = not CapturedDay.objects.filter(account=account, via=CapturedDay.Via.TRADE_BOOK).exists()
    order_ids = {r.broker_order_id for r in rows if r.broker_order_id}
    orders = {
        o.broker_order_id: o
        for o in Order.objects.filter(account=account, broker_order_id__in=order_ids)
    }
    new = []
    for row in rows:
        if row.quantity <= 0:
            continue
        at = row.traded_at or now
        new.append(
            Trade(
                user_id=account.user_id,
                account=account,
                account_name=account.display_name,
                order=orders.get(row.broker_order_id),
                broker_trade_id=trade_id_of(row),
                broker_order_id=row.broker_order_id,
                exchange=row.instrument.exchange,
                symbol=row.instrument.symbol,
                side=str(row.side),
                quantity=row.quantity,
                price=row.price,
                product=str(row.product),
                traded_at=at,
                trade_date=clock.india_today(at),
                time_estimated=row.traded_at is None,
            )
        )
    with transaction.atomic():
        before = Trade.objects.filter(account=account).count()
        if first:
            services.seed_opening_lots(account=account, as_of=today)
        Trade.objects.bulk_create(new, batch_size=500, ignore_conflicts=True)
        result.added = Trade.objects.filter(account=account).count() - before
        mark_captured(account=account, days=[today])
    if first or rebuild:
        services.rebuild(user=account.user, account=account)
    elif result.added:  # only the books the day's fills touch
        services.rebuild(user=account.user, account=account, symbols={t.symbol for t in new})
    return result


def mark_captured(*, account: BrokerAccount, days, via: str = CapturedDay.Via.TRADE_BOOK) -> None:
    CapturedDay.objects.bulk_create(
        [CapturedDay(account=account, day=day, via=via) for day in days],
        ignore_conflicts=True,
    )


def capture_all(account_id: int | None = None, *, rebuild: bool = False) -> list[CaptureResult]:
    accounts = BrokerAccount.objects.filter(status=BrokerAccount.Status.CONNECTED)
    if account_id:
        accounts = accounts.filter(pk=account_id)
    results = []
    for account in accounts.select_related("user"):
        try:
            results.append(capture_account(account, rebuild=rebuild))
        except Exception:  # one account's trouble never stops the others
            logger.exception("trade capture crashed for account %s", account.pk)
            results.append(CaptureResult(account_id=account.pk, error="Unexpected error."))
    return results


def missed_days(account: BrokerAccount, *, until: date | None = None) -> list[date]:
    """Trading days from the account's first captured day to the last closed one
    that neither a trade-book read nor an import covers. A day counts once its
    end-of-day read is due (an hour after the close), not at the close itself."""
    days = set(CapturedDay.objects.filter(account=account).values_list("day", flat=True))
    if not days:
        return []
    end = until or clock.last_closed_trading_day(timezone.now() - END_OF_DAY_GRACE)
    return [d for d in clock.trading_days(min(days), end) if d not in days]


class MarkRefused(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def mark_no_trades(*, account: BrokerAccount, start: date, end: date) -> int:
    """The trader says the account had no trades (or needs none) on the missed
    trading days from `start` to `end`: they count as captured from now on, so the
    warning clears. Returns how many days were marked."""
    if end < start:
        raise MarkRefused("The first day must be on or before the last.")
    missed = [d for d in missed_days(account) if start <= d <= end]
    if not missed:
        raise MarkRefused(
            f"No missed trading day of {account.display_name} falls between "
            f"{start:%d %b %Y} and {end:%d %b %Y}."
        )
    mark_captured(account=account, days=missed, via=CapturedDay.Via.NO_TRADES)
    return len(missed)
