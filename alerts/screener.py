"""The screener: one condition over a universe, on stored daily candles, as a
background task that reports its progress; the matches with the values that
made them match.

Universe: holdings (one account's or all), an exchange segment (every symbol of
it with stored daily candles), or one or more watchlists (`targets.watchlist_items`,
a symbol in two lists once). Crossings compare the last bar with the one before.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from marketdata.models import Candle, Instrument
from sigmatrader.queueing import enqueue

from . import data
from .engine import bars_needed
from .expressions import ExpressionError, Frame, NoData, evaluate, parse
from .models import ScreenerRun
from .targets import Item, TargetUnavailable, holding_items, watchlist_items

logger = logging.getLogger(__name__)
CHUNK = 250
MAX_SHOWN_SKIPS = 20
SEGMENTS = ("NSE", "BSE", "NFO", "MCX")


class ScreenerError(ValueError):
    def __init__(self, message: str, column: int | None = None):
        super().__init__(message)
        self.message = message
        self.column = column


def start(
    *, user, universe: str, expression: str, account=None, segment: str = "", watchlist_ids=()
) -> ScreenerRun:
    """Check the request, store the run and queue it; ScreenerError when it is refused."""
    try:
        compiled = parse(expression)
    except ExpressionError as exc:
        raise ScreenerError(exc.message, exc.column) from None
    if universe not in ScreenerRun.Universe.values:
        raise ScreenerError("Choose what to screen.")
    if compiled.uses_holding and universe != ScreenerRun.Universe.HOLDINGS:
        raise ScreenerError("Holding fields (pnl_pct, qty…) need the holdings universe.")
    if account is not None and account.user_id != user.pk:
        raise ScreenerError("Choose one of your accounts.")
    if universe == ScreenerRun.Universe.SEGMENT and segment not in SEGMENTS:
        raise ScreenerError(f"Choose a segment: {', '.join(SEGMENTS)}.")
    run = ScreenerRun.objects.create(
        user=user,
        universe=universe,
        account=account if universe == ScreenerRun.Universe.HOLDINGS else None,
        segment=segment if universe == ScreenerRun.Universe.SEGMENT else "",
        watchlist_ids=list(watchlist_ids),
        expression=compiled.text,
    )
    run_id = run.pk
    transaction.on_commit(lambda: enqueue("alerts.run_screener", run_id), robust=True)
    return run


def rerun(run: ScreenerRun) -> ScreenerRun:
    return start(
        user=run.user,
        universe=run.universe,
        expression=run.expression,
        account=run.account,
        segment=run.segment,
        watchlist_ids=run.watchlist_ids,
    )


def universe_items(run: ScreenerRun, *, per_account: bool = False) -> list[Item]:
    """The run's symbols. Holdings: each symbol once (labelled with the accounts that
    hold it), or one per holding account when the condition reads holding fields
    (`per_account`: each account's pnl_pct differs)."""
    if run.universe == ScreenerRun.Universe.HOLDINGS:
        holdings = holding_items(user=run.user, account=run.account)
        if per_account:
            return holdings
        merged: dict[str, Item] = {}
        for item in holdings:
            found = merged.get(item.name)
            if found is None:
                merged[item.name] = Item(
                    key=item.name,
                    exchange=item.exchange,
                    symbol=item.symbol,
                    account_name=item.account_name,
                )
            elif item.account_name and item.account_name not in found.account_name:
                found.account_name = f"{found.account_name}, {item.account_name}"
        return list(merged.values())
    if run.universe == ScreenerRun.Universe.SEGMENT:
        symbols = (
            Candle.objects.filter(exchange=run.segment, interval=run.interval)
            .values_list("canonical_symbol", flat=True)
            .distinct()
            .order_by("canonical_symbol")
        )
        return [Item(key=f"{run.segment}:{s}", exchange=run.segment, symbol=s) for s in symbols]
    items: dict[str, Item] = {}  # a symbol in two lists is screened once
    for watchlist_id in run.watchlist_ids or [None]:
        for item in watchlist_items(user=run.user, watchlist_id=watchlist_id):
            items.setdefault(item.key, item)
    return list(items.values())


def run(run_id: int, *, now=None) -> str:
    """The task's body: claim the run (once), screen in chunks, store the matches."""
    claimed = ScreenerRun.objects.filter(pk=run_id, status=ScreenerRun.Status.QUEUED).update(
        status=ScreenerRun.Status.RUNNING
    )
    if not claimed:
        return "not queued"
    screen = ScreenerRun.objects.select_related("user", "account").get(pk=run_id)
    now = now or timezone.now()
    try:
        compiled = parse(screen.expression)
        items = universe_items(screen, per_account=compiled.uses_holding)
    except (ExpressionError, TargetUnavailable) as exc:
        return _finish(screen, status=ScreenerRun.Status.FAILED, error=getattr(exc, "message", ""))
    except Exception:
        logger.exception("screener run %s", run_id)
        return _finish(screen, status=ScreenerRun.Status.FAILED, error="Unexpected error.")
    ScreenerRun.objects.filter(pk=run_id).update(total=len(items))
    screen.total = len(items)
    matches: list[dict] = []
    skips: list[str] = []
    try:
        done, skipped, no_candles = _screen(screen, compiled, items, now, matches, skips)
    except Exception:
        logger.exception("screener run %s", run_id)
        return _finish(screen, status=ScreenerRun.Status.FAILED, error="Unexpected error.")
    screen.done, screen.matched, screen.skipped = done, len(matches), skipped
    ScreenerRun.objects.filter(pk=run_id).update(no_candles=no_candles)
    return _finish(screen, status=ScreenerRun.Status.DONE, results=matches, error="\n".join(skips))


def _screen(screen, compiled, items, now, matches: list, skips: list) -> tuple[int, int, int]:
    """Screen `items` in chunks (one candle query each), reporting progress; returns
    (done, skipped, skipped for want of any stored candle)."""
    skipped = done = no_candles = 0
    depth = bars_needed(compiled)
    for offset in range(0, len(items), CHUNK):
        chunk = items[offset : offset + CHUNK]
        bars = data.load_bars(
            {(i.exchange, i.symbol) for i in chunk}, interval=screen.interval, bars=depth, now=now
        )
        for item in chunk:
            row, reason = screen_item(compiled, item, bars.get((item.exchange, item.symbol)), now)
            if reason:
                skipped += 1
                entry = bars.get((item.exchange, item.symbol))
                if entry is None or not entry.at:
                    no_candles += 1
                if len(skips) < MAX_SHOWN_SKIPS:
                    skips.append(reason)
            elif row is not None:
                matches.append(row)
        done += len(chunk)
        ScreenerRun.objects.filter(pk=screen.pk).update(
            done=done, matched=len(matches), skipped=skipped
        )
    return done, skipped, no_candles


def screen_item(compiled, item: Item, entry, now) -> tuple[dict | None, str]:
    """(a result row when it matches, else None; why it was skipped, else "")."""
    label = f"{item.name} ({item.account_name})" if item.account_name else item.name
    stale = data.stale_reason(entry, interval="1d", now=now)
    if stale:
        return None, f"{label}: {stale}"
    series = entry.as_dict()
    holding = None
    if item.account_id is not None:
        from .engine import holding_fields

        holding = holding_fields(item, series["close"][-1])
    frame = Frame(bars=series, holding=holding, previous=None)
    try:
        matched = evaluate(compiled, frame)
    except NoData as exc:
        return None, f"{label}: {exc}"
    if not matched:
        return None, ""
    values = {k: round(v, 4) for k, v in frame.values.items()}
    values.setdefault("close", round(series["close"][-1], 4))
    return {
        "symbol": item.name,
        "account": item.account_name,
        "bar": entry.at[-1].isoformat(),
        "values": values,
    }, ""


def _finish(screen: ScreenerRun, *, status: str, error: str = "", results=None) -> str:
    fields = {"status": status, "error": error[:5000], "finished_at": timezone.now()}
    if results is not None:
        fields["results"] = results
    ScreenerRun.objects.filter(pk=screen.pk).update(**fields)
    return status


def empty_reason(run: ScreenerRun) -> str:
    """Why a finished run had no symbol to screen (shown instead of a silent zero)."""
    if run.universe == ScreenerRun.Universe.SEGMENT:
        if not Instrument.objects.filter(exchange=run.segment).exists():
            return (
                f"No {run.segment} instruments are loaded yet, and no {run.segment} symbol "
                "has stored daily candles: an exchange segment screens the symbols with "
                "stored candles."
            )
        return (
            f"No {run.segment} symbol has stored daily candles yet: an exchange segment "
            "screens only the symbols with stored candles. Screen your holdings or a "
            "watchlist (and fetch their candles there) first."
        )
    if run.universe == ScreenerRun.Universe.HOLDINGS:
        return "No holdings to screen (sync the portfolio, or choose another account)."
    return "The chosen watchlists have no symbols."


# --- Fetching the daily candles a run lacked ---------------------------------------------------

FETCH_STATUSES = ("queued", "running")


def start_fetch(run: ScreenerRun) -> bool:
    """Queue a fetch of the daily candles the run's symbols lack (once at a time)."""
    now = timezone.now()
    lost = Q(
        fetch_status__in=FETCH_STATUSES, fetch_started_at__lt=now - ScreenerRun.STALLED_AFTER * 4
    )
    started = (
        ScreenerRun.objects.filter(pk=run.pk, status=ScreenerRun.Status.DONE, no_candles__gt=0)
        .filter(~Q(fetch_status__in=FETCH_STATUSES) | lost)
        .update(
            fetch_status="queued",
            fetch_total=0,
            fetch_done=0,
            fetch_message="",
            fetch_started_at=now,
        )
    )
    if started:
        run_id = run.pk
        transaction.on_commit(lambda: enqueue("alerts.fetch_screener_candles", run_id), robust=True)
    return bool(started)


def fetch_candles(run_id: int, *, now=None) -> str:
    """The task's body: the daily candles of the run's symbols that have none stored,
    through the user's accounts that offer history (the adapters keep the history
    rate limits), one symbol at a time with progress."""
    from .feeds import fetch_history

    claimed = ScreenerRun.objects.filter(pk=run_id, fetch_status="queued").update(
        fetch_status="running"
    )
    if not claimed:
        return "not queued"
    screen = ScreenerRun.objects.select_related("user", "account").get(pk=run_id)
    now = now or timezone.now()
    try:
        compiled = parse(screen.expression)
        items = universe_items(screen)
    except (ExpressionError, TargetUnavailable) as exc:
        return _fetched(screen, getattr(exc, "message", "Nothing to fetch."))
    names = sorted({(i.exchange, i.symbol) for i in items})
    newest = {
        (row["exchange"], row["canonical_symbol"]): row["at"]
        for row in Candle.objects.filter(interval="1d", canonical_symbol__in={n[1] for n in names})
        .values("exchange", "canonical_symbol")
        .annotate(at=Max("at"))
    }
    # Those the run could not use: no daily candle, or none recent enough.
    wanted = [
        name
        for name in names
        if data.stale_reason(_newest_only(newest.get(name)), interval="1d", now=now)
    ]
    ScreenerRun.objects.filter(pk=run_id).update(fetch_total=len(wanted))
    depth = max(bars_needed(compiled), 30)
    history = now - timedelta(days=depth * data.CALENDAR["1d"] + 10)
    counts = {"bars": 0, "errors": 0, "no_account": 0}
    for done, (exchange, symbol) in enumerate(wanted, start=1):
        start = max(history, newest.get((exchange, symbol)) or history)
        try:
            fetch_history([screen.user], "1d", exchange, symbol, start, now, counts)
        except Exception:  # one symbol's failure must not stop the others
            logger.exception("screener %s: candles of %s:%s", run_id, exchange, symbol)
            counts["errors"] += 1
        ScreenerRun.objects.filter(pk=run_id).update(fetch_done=done)
    problems = []
    if counts["no_account"]:
        problems.append(
            f"{counts['no_account']} had no connected account offering their daily history"
        )
    if counts["errors"]:
        problems.append(f"{counts['errors']} failed at the broker (see Events)")
    message = f"Fetched daily candles for {len(wanted) - counts['no_account'] - counts['errors']}"
    message += f" of {len(wanted)} symbols"
    message += f" ({'; '.join(problems)})." if problems else ". Run the screen again."
    return _fetched(screen, message)


def _newest_only(at):
    """Bars holding only their newest time (what stale_reason reads)."""
    if at is None:
        return None
    return data.Bars(at=[at], open=[], high=[], low=[], close=[], volume=[])


def _fetched(screen: ScreenerRun, message: str) -> str:
    ScreenerRun.objects.filter(pk=screen.pk).update(fetch_status="done", fetch_message=message)
    return "done"
