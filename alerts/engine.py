"""Evaluating rules: build each symbol's frame, evaluate, claim, fire.

One cycle (`run_cycle`, the beat task's body) loads what every due rule needs in
bulk — holdings, cached live prices, stored candles — so its cost grows with the
symbols watched, not with rules × symbols × queries. Nothing here calls a broker:
prices come from the shared quote cache, candles from the candle store (both
filled by their own tasks within the brokers' rate limits).

A missing price, stale candles or too little history never fire: the rule's
status says which symbol lacked what. Crossings compare with the values the same
rule saw for the same symbol at its previous evaluation (AlertState.previous),
so the first look only records them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from marketdata import clock

from . import data
from .expressions import Compiled, ExpressionError, Frame, NoData, evaluate, parse
from .models import AlertRule, AlertState
from .targets import Item, TargetUnavailable, items_for

logger = logging.getLogger(__name__)
MAX_STATUS_NAMES = 3


@dataclass
class Look:
    """One rule × one item: the outcome of an evaluation."""

    item: Item
    fired: bool = False
    values: dict = field(default_factory=dict)
    missing: str = ""
    bar_at: datetime | None = None
    price: float | None = None
    now_values: dict = field(default_factory=dict)


@dataclass
class Prepared:
    rule: AlertRule
    compiled: Compiled | None
    items: list[Item]
    problem: str = ""


def compile_rule(rule: AlertRule) -> Compiled:
    return parse(rule.expression)


def interval_of(rule: AlertRule) -> str:
    return "1d" if rule.cadence == AlertRule.Cadence.TICK else rule.cadence


def bars_needed(compiled: Compiled) -> int:
    return compiled.lookback + 2  # the crossing fallback and prev() read a bar more


def prepare(rules) -> list[Prepared]:
    out = []
    for rule in rules:
        try:
            compiled = compile_rule(rule)
        except ExpressionError as exc:
            out.append(Prepared(rule, None, [], problem=f"Condition: {exc}"))
            continue
        if compiled.uses_holding and rule.target != AlertRule.Target.HOLDINGS:
            out.append(Prepared(rule, None, [], problem="Holding fields need a holdings target."))
            continue
        try:
            items = items_for(rule)
        except TargetUnavailable as exc:
            out.append(Prepared(rule, compiled, [], problem=exc.message))
            continue
        out.append(Prepared(rule, compiled, items))
    return out


def frame_for(
    *,
    rule: AlertRule,
    compiled: Compiled,
    item: Item,
    prices: dict,
    bars: dict,
    previous: dict | None,
    now: datetime,
    shared: dict | None = None,
) -> tuple[Frame, datetime | None, float | None]:
    """The frame to evaluate `item` against; NoData when the data is not usable."""
    name = (item.exchange, item.symbol)
    interval = interval_of(rule)
    entry = bars.get((interval, name))
    price = None
    if rule.cadence == AlertRule.Cadence.TICK:
        quote = prices.get(name)
        if quote is None:
            raise NoData(f"{item.name}: no live price")
        if quote.stale:
            raise NoData(f"{item.name}: the live price is {int(quote.age)} s old")
        price = float(quote.price)
        if compiled.needs_candles:
            stale = data.stale_reason(entry, interval="1d", now=now)
            if stale:
                raise NoData(f"{item.name}: {stale}")
        series, memo = _shared(
            shared, ("tick", name), lambda: data.with_live_bar(entry, price, now=now)
        )
        prev_close = float(quote.close) if quote.close else None
        if prev_close is None and item.close_price:
            prev_close = float(item.close_price)
        bar_at = _day_start(now)
    else:
        entry = data.closed_bars(entry, interval=interval, now=now)
        stale = data.stale_reason(entry, interval=interval, now=now)
        if stale:
            raise NoData(f"{item.name}: {stale}")
        series, memo = _shared(shared, (interval, name), entry.as_dict)
        prev_close = None
        bar_at = entry.at[-1]
        price = series["close"][-1]
    holding = None
    if rule.target == AlertRule.Target.HOLDINGS:
        holding = holding_fields(item, price)
    frame = Frame(bars=series, prev_close=prev_close, holding=holding, previous=previous)
    frame._memo = memo  # indicators of a symbol's bars are computed once per cycle
    return frame, bar_at, price


def _shared(shared: dict | None, key: tuple, make) -> tuple[dict, dict]:
    """The symbol's bars and indicator memo, built once per cycle (the rules of a cycle
    read the same prices: bars are never modified by evaluation)."""
    if shared is None:
        return make(), {}
    found = shared.get(key)
    if found is None:
        found = shared[key] = (make(), {})
    return found


def holding_fields(item: Item, price: float | None) -> dict[str, float]:
    fields = {"qty": float(item.quantity)}
    if item.average_price:
        fields["avg_price"] = float(item.average_price)
        if price is not None:
            fields["pnl_pct"] = (
                (price - float(item.average_price)) / float(item.average_price) * 100
            )
    if item.close_price and price is not None:
        fields["day_pnl_pct"] = (price - float(item.close_price)) / float(item.close_price) * 100
    return fields


def _day_start(now: datetime) -> datetime:
    local = timezone.localtime(now, data.IST)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def load_data(prepared: list[Prepared], *, now: datetime) -> tuple[dict, dict]:
    """Prices and bars for every item of every prepared rule, in bulk."""
    names: set[tuple[str, str]] = set()
    wanted: dict[str, tuple[set, int]] = {}
    for p in prepared:
        if p.compiled is None:
            continue
        item_names = {(i.exchange, i.symbol) for i in p.items}
        if p.rule.cadence == AlertRule.Cadence.TICK:
            names |= item_names
            if not p.compiled.needs_candles:
                continue
        interval = interval_of(p.rule)
        found, depth = wanted.get(interval, (set(), 1))
        wanted[interval] = (found | item_names, max(depth, bars_needed(p.compiled)))
    prices = data.live_prices(names)
    bars = {}
    for interval, (item_names, depth) in wanted.items():
        for name, entry in data.load_bars(
            item_names, interval=interval, bars=depth, now=now
        ).items():
            bars[(interval, name)] = entry
    return prices, bars


def look(prepared: Prepared, item: Item, *, prices, bars, previous, now, shared=None) -> Look:
    result = Look(item=item)
    try:
        frame, result.bar_at, result.price = frame_for(
            rule=prepared.rule,
            compiled=prepared.compiled,
            item=item,
            prices=prices,
            bars=bars,
            previous=previous,
            now=now,
            shared=shared,
        )
        result.fired = evaluate(prepared.compiled, frame)
    except NoData as exc:
        result.missing = str(exc) if str(exc).startswith(item.name) else f"{item.name}: {exc}"
        return result
    except (ArithmeticError, ValueError, TypeError, IndexError) as exc:  # never fires on a bug
        logger.exception("alert rule %s on %s: evaluation failed", prepared.rule.pk, item.name)
        result.missing = f"{item.name}: could not evaluate ({type(exc).__name__})"
        result.fired = False
        return result
    result.values = {k: round(v, 4) for k, v in frame.values.items()}
    result.now_values = frame.now
    return result


# --- The claim --------------------------------------------------------------------------------


def claim(*, rule: AlertRule, state: AlertState, bar_at: datetime | None, now: datetime) -> bool:
    """Take the right to fire `rule` for `state`'s symbol now, atomically: of two
    evaluators that both saw the condition hold, exactly one gets True. What this
    evaluator already knows rules out (a cooldown running, this bar fired) costs no
    write; the conditional UPDATE is what decides."""
    cooldown = timedelta(seconds=rule.cooldown_seconds)
    if not _may_fire(rule, state, bar_at, now, cooldown):
        return False
    if rule.trigger == AlertRule.Trigger.ONCE and not once_per_symbol(rule):
        # A once-rule on one symbol fires once: the claim disables it.
        taken = AlertRule.objects.filter(pk=rule.pk, enabled=True).update(
            enabled=False, status_message="Fired once; disabled."
        )
        if taken:
            AlertState.objects.filter(pk=state.pk).update(last_fired_at=now, last_fired_bar=bar_at)
        return bool(taken)
    rows = AlertState.objects.filter(pk=state.pk)
    if rule.trigger == AlertRule.Trigger.ONCE:
        # Holdings or a watchlist: once per symbol (the rule keeps watching the others).
        rows = rows.filter(last_fired_at__isnull=True)
    elif rule.trigger == AlertRule.Trigger.ONCE_PER_BAR:
        rows = rows.filter(Q(last_fired_bar__isnull=True) | ~Q(last_fired_bar=bar_at))
    else:
        rows = rows.filter(Q(last_fired_at__isnull=True) | Q(last_fired_at__lte=now - cooldown))
    taken = bool(rows.update(last_fired_at=now, last_fired_bar=bar_at))
    if taken:
        state.last_fired_at, state.last_fired_bar = now, bar_at
    return taken


def once_per_symbol(rule: AlertRule) -> bool:
    """A once-rule over several symbols (holdings, a watchlist) fires once per symbol."""
    return rule.trigger == AlertRule.Trigger.ONCE and rule.target != AlertRule.Target.SYMBOL


def _may_fire(rule, state, bar_at, now, cooldown) -> bool:
    if rule.trigger == AlertRule.Trigger.ONCE:
        if once_per_symbol(rule):
            return rule.enabled and state.last_fired_at is None
        return rule.enabled
    if rule.trigger == AlertRule.Trigger.ONCE_PER_BAR:
        return state.last_fired_bar is None or state.last_fired_bar != bar_at
    return state.last_fired_at is None or state.last_fired_at <= now - cooldown


# --- The cycle --------------------------------------------------------------------------------


def due_rules(now: datetime):
    """Enabled rules; expired ones are disabled on the way (with the reason)."""
    expired = AlertRule.objects.filter(enabled=True, expires_at__lte=now)
    expired.update(enabled=False, status_ok=True, status_message="Expired.")
    return AlertRule.objects.filter(enabled=True).select_related(
        "user", "holdings_account", "action_account"
    )


def run_cycle(*, now: datetime | None = None, rules=None) -> dict:
    """Evaluate every due rule once; returns counts (for the task result and bench)."""
    now = now or timezone.now()
    rules = list(due_rules(now) if rules is None else rules)
    hours_closed = []
    active = []
    for rule in rules:
        if rule.market_hours_only and not clock.is_open(exchange=_exchange_of(rule), moment=now):
            hours_closed.append(rule.pk)
        else:
            active.append(rule)
    if hours_closed:
        AlertRule.objects.filter(pk__in=hours_closed).exclude(
            status_message="Waiting for market hours."
        ).update(status_ok=True, status_message="Waiting for market hours.")
    prepared = prepare(active)
    prices, bars = load_data(prepared, now=now)
    states = _states(prepared)
    counts = {"rules": len(rules), "evaluated": 0, "fired": 0, "missing": 0, "waiting": 0}
    counts["waiting"] = len(hours_closed)
    changed_states = []
    shared: dict = {}
    statuses: dict[int, tuple[bool, str]] = {}
    for p in prepared:
        rule = p.rule
        missing: list[str] = []
        fired_here = 0
        if p.problem:
            statuses[rule.pk] = (False, p.problem)
            continue
        for item in p.items:
            state = states[(rule.pk, item.key)]
            bar_cadence = rule.cadence != AlertRule.Cadence.TICK
            result = look(
                p,
                item,
                prices=prices,
                bars=bars,
                previous=dict(state.previous or {}),
                now=now,
                shared=shared,
            )
            counts["evaluated"] += 1
            if result.missing:
                missing.append(result.missing)
                counts["missing"] += 1
                continue
            if bar_cadence and state.last_bar_at and result.bar_at <= state.last_bar_at:
                continue  # this bar was evaluated already: wait for the next close
            if result.now_values or bar_cadence:
                state.previous = result.now_values or state.previous
                state.last_bar_at = result.bar_at
                changed_states.append(state)
            if not result.fired:
                continue
            try:
                fired = _claim_and_fire(rule, state, result, now)
            except Exception:  # one rule's failure must not stop the others' cycle
                logger.exception("alert rule %s on %s: firing failed", rule.pk, item.name)
                missing.append(f"{item.name}: firing failed (nothing was done; see the log)")
                continue
            if fired:
                fired_here += 1
                counts["fired"] += 1
                if rule.trigger == AlertRule.Trigger.ONCE and not once_per_symbol(rule):
                    break
        if missing:
            shown = "; ".join(missing[:MAX_STATUS_NAMES])
            more = len(missing) - MAX_STATUS_NAMES
            message = f"Not evaluated — {shown}" + (f" (and {more} more)" if more > 0 else "")
            statuses[rule.pk] = (False, message)
        elif not p.items:
            statuses[rule.pk] = (True, "Nothing to watch: no holdings.")
        else:
            statuses[rule.pk] = (True, "")
        if rule.trigger == AlertRule.Trigger.ONCE and fired_here and not once_per_symbol(rule):
            statuses.pop(rule.pk, None)  # the claim wrote "Fired once; disabled."
            rule.status_message = "Fired once; disabled."
    if changed_states:
        AlertState.objects.bulk_update(changed_states, ["previous", "last_bar_at"], batch_size=500)
    _save_statuses([p.rule for p in prepared], statuses, now)
    return counts


def _claim_and_fire(rule: AlertRule, state: AlertState, result: Look, now: datetime) -> bool:
    """The claim, the event and the order in one transaction: all of them or none."""
    from .actions import fire

    if not _may_fire(rule, state, result.bar_at, now, timedelta(seconds=rule.cooldown_seconds)):
        return False  # known lost already: no write transaction
    with transaction.atomic():
        if not claim(rule=rule, state=state, bar_at=result.bar_at, now=now):
            return False
        fire(rule=rule, look=result, now=now)
    return True


def _exchange_of(rule: AlertRule) -> str | None:
    if rule.target == AlertRule.Target.SYMBOL and rule.symbol:
        from .targets import split_symbol

        return split_symbol(rule.symbol)[0]
    return None


def _states(prepared: list[Prepared]) -> dict:
    """{(rule pk, key): AlertState}, the missing ones created (two queries + a bulk insert)."""
    wanted = {(p.rule.pk, i.key) for p in prepared if p.compiled is not None for i in p.items}
    if not wanted:
        return {}
    rule_ids = {rule_id for rule_id, _key in wanted}
    found = {(s.rule_id, s.key): s for s in AlertState.objects.filter(rule_id__in=rule_ids)}
    missing = [AlertState(rule_id=r, key=k) for r, k in wanted if (r, k) not in found]
    if missing:
        AlertState.objects.bulk_create(missing, ignore_conflicts=True, batch_size=500)
        found = {(s.rule_id, s.key): s for s in AlertState.objects.filter(rule_id__in=rule_ids)}
    return found


def _save_statuses(rules: list[AlertRule], statuses: dict, now: datetime) -> None:
    """Every evaluated rule's time and status: one UPDATE per distinct status that
    changed, one for the times (not one per rule)."""
    changed: dict[tuple[bool, str], list[int]] = {}
    for rule in rules:
        if rule.pk not in statuses:
            continue
        ok, message = statuses[rule.pk]
        message = message[:500]
        if (rule.status_ok, rule.status_message) != (ok, message):
            changed.setdefault((ok, message), []).append(rule.pk)
        rule.status_ok, rule.status_message, rule.last_evaluated_at = ok, message, now
    with transaction.atomic():
        for (ok, message), pks in changed.items():
            for chunk in _chunks(pks):
                # enabled: a rule another evaluator just fired once (and disabled) keeps
                # the claim's "Fired once; disabled."
                AlertRule.objects.filter(pk__in=chunk, enabled=True).update(
                    status_ok=ok, status_message=message
                )
        for chunk in _chunks([rule.pk for rule in rules]):
            AlertRule.objects.filter(pk__in=chunk).update(last_evaluated_at=now)


def _chunks(values: list, size: int = 500):
    for start in range(0, len(values), size):
        yield values[start : start + size]


# --- "Would fire now?" --------------------------------------------------------------------------


@dataclass
class Preview:
    error: str = ""
    column: int | None = None
    rows: list[Look] = field(default_factory=list)


def preview(rule: AlertRule, *, now: datetime | None = None, limit: int = 50) -> Preview:
    """Evaluate an unsaved rule against current data; crossings compare with the bar
    before (no state is read or written, nothing fires)."""
    now = now or timezone.now()
    try:
        compiled = compile_rule(rule)
    except ExpressionError as exc:
        return Preview(error=exc.message, column=exc.column)
    if compiled.uses_holding and rule.target != AlertRule.Target.HOLDINGS:
        return Preview(error="Holding fields (pnl_pct, qty…) need a holdings target.")
    try:
        items = items_for(rule)[:limit]
    except TargetUnavailable as exc:
        return Preview(error=exc.message)
    prepared = Prepared(rule, compiled, items)
    prices, bars = load_data([prepared], now=now)
    rows = [
        look(prepared, item, prices=prices, bars=bars, previous=None, now=now) for item in items
    ]
    return Preview(rows=rows)


def decimal_or_none(value) -> Decimal | None:
    return None if value is None else Decimal(str(value))
