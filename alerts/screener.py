"""The screener: one condition over a universe, on stored daily candles, as a
background task that reports its progress; the matches with the values that
made them match.

Universe: holdings (one account's or all), an exchange segment (every symbol of
it with stored daily candles), or one or more watchlists (`targets.watchlist_items`,
a symbol in two lists once). Crossings compare the last bar with the one before.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from marketdata.models import Candle
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


def universe_items(run: ScreenerRun) -> list[Item]:
    if run.universe == ScreenerRun.Universe.HOLDINGS:
        return holding_items(user=run.user, account=run.account)
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
        items = universe_items(screen)
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
        done, skipped = _screen(screen, compiled, items, now, matches, skips)
    except Exception:
        logger.exception("screener run %s", run_id)
        return _finish(screen, status=ScreenerRun.Status.FAILED, error="Unexpected error.")
    screen.done, screen.matched, screen.skipped = done, len(matches), skipped
    return _finish(screen, status=ScreenerRun.Status.DONE, results=matches, error="\n".join(skips))


def _screen(screen, compiled, items, now, matches: list, skips: list) -> tuple[int, int]:
    """Screen `items` in chunks (one candle query each), reporting progress."""
    skipped = done = 0
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
                if len(skips) < MAX_SHOWN_SKIPS:
                    skips.append(reason)
            elif row is not None:
                matches.append(row)
        done += len(chunk)
        ScreenerRun.objects.filter(pk=screen.pk).update(
            done=done, matched=len(matches), skipped=skipped
        )
    return done, skipped


def screen_item(compiled, item: Item, entry, now) -> tuple[dict | None, str]:
    """(a result row when it matches, else None; why it was skipped, else "")."""
    stale = data.stale_reason(entry, interval="1d", now=now)
    if stale:
        return None, f"{item.name}: {stale}"
    series = entry.as_dict()
    holding = None
    if item.account_id is not None:
        from .engine import holding_fields

        holding = holding_fields(item, series["close"][-1])
    frame = Frame(bars=series, holding=holding, previous=None)
    try:
        matched = evaluate(compiled, frame)
    except NoData as exc:
        return None, f"{item.name}: {exc}"
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
