"""The daily loss limit and profit target: read each limited account's day P&L and
start a halt when a limit is reached (or, by the limit's setting, when the P&L
cannot be known).

A limit over one account compares that account's day P&L; a limit over all
accounts compares the sum over the user's live (real-money) accounts (paper ones
only when there is no live one; see `coverage`) — unknown if any
of them is unknown (never counted as zero). Loss: day P&L ≤ −max loss (₹, or
% of the start-of-day capital, itself unknown until the broker reported funds).
Profit target: day P&L ≥ the target.

A halt released by hand keeps THAT trip from tripping again at once (the loss that
tripped it is still there): a released loss-limit halt silences the loss check, a
released profit-target halt the target check, a released unknown-P&L halt the
halt on unknown P&L — each for the rest of the day, unless the limit is saved
again after the release (which re-arms it now). A kill switch's release silences
nothing, and warn-only warnings are never silenced. Every limit re-arms on the
next trading day (marketdata.clock.trading_day).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.core.cache import cache
from django.utils import timezone

from brokers.models import BrokerAccount
from brokers.registry import UnknownBroker
from marketdata import clock
from orders.models import TradingHalt
from portfolio.models import Holding, Position
from sigmatrader.events import record_event
from sigmatrader.formatting import inr
from sigmatrader.models import SystemEvent

from . import halts
from .day_pnl import read_account
from .models import DayReading, LossLimit

logger = logging.getLogger(__name__)
Reason = TradingHalt.Reason


@dataclass
class Figures:
    """A limit's figures now: its P&L (None: unknown, with why), threshold and capital."""

    limit: LossLimit
    pnl: Decimal | None = None
    max_loss: Decimal | None = None  # in ₹ (a % limit converted)
    capital: Decimal | None = None
    errors: list[str] = field(default_factory=list)
    accounts: list[BrokerAccount] = field(default_factory=list)
    # Accounts in scope the sum leaves out, with why (an all-accounts limit only).
    left_out: list[tuple[BrokerAccount, str]] = field(default_factory=list)
    # Each account's own day P&L (None: unknown), for the dashboard.
    parts: list[tuple[BrokerAccount, Decimal | None]] = field(default_factory=list)
    # When the figure was read: the oldest of its accounts' readings (None: unread).
    read_at: datetime | None = None

    @property
    def unread(self) -> bool:
        """No account read yet today (a new limit before the watch's first pass)."""
        return all(pnl is None for _, pnl in self.parts) and all(
            e.endswith("not read yet") for e in self.errors
        )

    @property
    def covers(self) -> str:
        """Which accounts the sum covers (and which it leaves out, and why)."""
        names = ", ".join(a.display_name for a in self.accounts) or "no account"
        text = f"Sum of {names}"
        if self.accounts and all(is_paper(a) for a in self.accounts):
            text += " (paper: you have no live account, so all accounts are your paper ones)"
        if self.left_out:
            text += "; not counted: " + "; ".join(
                f"{a.display_name} ({why})" for a, why in self.left_out
            )
        return text + "."

    @property
    def known(self) -> bool:
        return self.pnl is not None and not self.errors

    @property
    def used_percent(self) -> int | None:
        """How much of the loss limit the day's loss uses (0–100+), for the dashboard."""
        if self.pnl is None or not self.max_loss:
            return None
        return max(int(-self.pnl * 100 / self.max_loss), 0)

    def as_text(self) -> dict:
        return {
            "pnl": str(self.pnl) if self.pnl is not None else "unknown",
            "max_loss": str(self.max_loss) if self.max_loss is not None else "",
            "profit_target": str(self.limit.profit_target or ""),
            "start_capital": str(self.capital) if self.capital is not None else "",
            "errors": self.errors,
        }


PAPER_LEFT_OUT = "paper: simulated, not in the sum of real accounts; give it its own limit"


def is_paper(account: BrokerAccount) -> bool:
    """A simulated account (its adapter is resettable): never summed with real money."""
    try:
        return bool(account.adapter_class.capabilities.resettable)
    except UnknownBroker:  # its broker was removed from settings: treated as real
        return False


def coverage(limit: LossLimit) -> tuple[list[BrokerAccount], list[tuple[BrokerAccount, str]]]:
    """(the accounts a limit sums, the accounts it leaves out with why).

    Its own account; or, for all accounts, the live (real-money) accounts — the paper
    ones only when the user has no live account, so a practising user's limit still
    works. Of those, every one connected or ever connected counts (an expired or
    failing one too, its P&L unknown, never skipped as zero), and so does one not
    connected that still has a stored position or holding (the portfolio's last sync:
    money at risk, its P&L unknown). Only an account not connected that holds nothing
    (never connected, or emptied) is left out."""
    if limit.account_id:
        return ([limit.account] if limit.account else []), []
    accounts = list(BrokerAccount.objects.filter(user_id=limit.user_id))
    left_out: list[tuple[BrokerAccount, str]] = []
    live = [a for a in accounts if not is_paper(a)]
    if live:  # real money only; paper accounts keep their own per-account limits
        left_out = [(a, PAPER_LEFT_OUT) for a in accounts if is_paper(a)]
        accounts = live
    offline = [a.pk for a in accounts if a.status == BrokerAccount.Status.NOT_CONNECTED]
    holding = set(
        Position.objects.filter(account_id__in=offline).values_list("account_id", flat=True)
    ) | set(Holding.objects.filter(account_id__in=offline).values_list("account_id", flat=True))
    included = []
    for account in accounts:
        if account.pk in offline and account.pk not in holding:
            left_out.append((account, "not connected, holds nothing"))
        else:
            included.append(account)
    return included, left_out


def accounts_for(limit: LossLimit) -> list[BrokerAccount]:
    """The accounts a limit sums (see `coverage`)."""
    return coverage(limit)[0]


def figures_for(limit: LossLimit, readings: dict[int, DayReading]) -> Figures:
    included, left_out = coverage(limit)
    figures = Figures(limit=limit, accounts=included, left_out=left_out)
    total, capital = Decimal("0"), Decimal("0")
    capital_known = True
    for account in figures.accounts:
        reading = readings.get(account.pk)
        figures.parts.append((account, reading.pnl if reading is not None else None))
        read_at = reading.read_at if reading is not None else None
        if read_at is not None and (figures.read_at is None or read_at < figures.read_at):
            figures.read_at = read_at
        if reading is None or reading.start_capital is None:
            capital_known = False  # an unread account's capital is unknown, never ₹0
        else:
            capital += reading.start_capital
        if reading is None or reading.pnl is None:
            why = reading.error if reading is not None else "not read yet"
            # Named once: an error that already names its account is not prefixed again,
            # and a one-account limit's errors are that account's (its scope names it).
            named = limit.account_id or why.startswith(account.display_name)
            figures.errors.append(why if named else f"{account.display_name}: {why}")
            continue
        total += reading.pnl
    if not figures.errors:
        figures.pnl = total
    if capital_known and figures.accounts:
        figures.capital = capital
    if limit.max_loss is not None:
        if limit.loss_kind == LossLimit.LossKind.PERCENT:
            if figures.capital is not None:
                figures.max_loss = (figures.capital * limit.max_loss / 100).quantize(
                    Decimal("0.01")
                )
            elif not figures.errors:
                figures.errors.append("Start-of-day capital unknown: the broker gave no funds.")
                figures.pnl = None
        else:
            figures.max_loss = limit.max_loss
    return figures


# Which check of a limit a released halt of each reason silences (a kill switch's
# release silences none: the trader stopped trading, not a limit).
SILENCES = {
    Reason.LOSS_LIMIT: "loss",
    Reason.PROFIT_TARGET: "target",
    Reason.UNKNOWN_PNL: "unknown",
}
CHECK_NAMES = {
    "loss": "Loss limit",
    "target": "Profit target",
    "unknown": "Halt on unknown P&L",
}


def released_checks(limit: LossLimit, day=None) -> dict[str, TradingHalt]:
    """The checks of `limit` silenced today by a release ({"loss" | "target" | "unknown":
    the released halt}). A release before the limit was last saved silences nothing:
    saving the limit again re-arms it."""
    day = day or clock.trading_day()
    released = TradingHalt.objects.filter(
        user_id=limit.user_id,
        account_id=limit.account_id,
        trading_day=day,
        released_at__isnull=False,
        reason__in=list(SILENCES),
    ).order_by("released_at", "pk")
    if limit.updated_at is not None:
        released = released.filter(released_at__gte=limit.updated_at)
    return {SILENCES[halt.reason]: halt for halt in released}


def release_notes(released: dict[str, TradingHalt]) -> list[str]:
    """What each silenced check is doing, for the dashboard and the Risk card."""
    notes = []
    for check, halt in released.items():
        when = timezone.localtime(halt.released_at, clock.IST).strftime("%H:%M")
        notes.append(
            f"{CHECK_NAMES[check]} released at {when} IST by {halt.released_by} — re-arms "
            "tomorrow, or save the limit again to re-arm now."
        )
    return notes


def check_limit(limit: LossLimit, figures: Figures) -> TradingHalt | None:
    """Start the halt the figures call for (None: within the limit, or already halted)."""
    day = clock.trading_day()
    in_force = TradingHalt.objects.filter(
        user_id=limit.user_id,
        account_id=limit.account_id,
        trading_day=day,
        released_at__isnull=True,
    ).exists()
    if in_force:
        return None
    released = released_checks(limit, day)
    account = limit.account if limit.account_id else None
    scope = account.display_name if account else "all accounts"
    if not figures.known:
        why = "; ".join(figures.errors) or "unknown."
        # "Day P&L unknown: Zerodha · main is expired: …" names the account once.
        lead = "Day P&L" if why.startswith(scope) else f"Day P&L of {scope}"
        why = why if why.endswith(".") else f"{why}."
        if limit.unknown_pnl == LossLimit.UnknownPnl.WARN:
            # Warned once per limit per day (and shown on the dashboard meanwhile).
            if cache.add(f"protection:unknown-warned:{limit.pk}:{day}", 1, 24 * 3600):
                record_event(
                    category=SystemEvent.Category.ORDER,
                    level=SystemEvent.Level.WARNING,
                    user=limit.user,
                    message=f"{lead} unknown: {why} Your setting is to warn only: trading "
                    "continues without the loss limit.",
                    details={"limit_id": limit.pk, "toast": True, "toast_title": "Day P&L unknown"},
                )
            return None
        if "unknown" in released:
            return None
        reason, message = Reason.UNKNOWN_PNL, f"{lead} unknown: {why}"
    elif (
        "loss" not in released and figures.max_loss is not None and figures.pnl <= -figures.max_loss
    ):
        reason = Reason.LOSS_LIMIT
        message = f"Day P&L {inr(figures.pnl)} reached the loss limit -{inr(figures.max_loss)}."
    elif (
        "target" not in released
        and limit.profit_target is not None
        and figures.pnl >= limit.profit_target
    ):
        reason = Reason.PROFIT_TARGET
        message = (
            f"Day P&L {inr(figures.pnl)} reached the profit target {inr(limit.profit_target)}."
        )
    else:
        return None
    halt, _ = halts.start_halt(
        user=limit.user,
        account=account,
        reason=reason,
        message=message,
        figures=figures.as_text(),
        escalation=limit.escalation,
        webhook_policy=limit.webhook_policy,
        actor="loss limit",
    )
    return halt


def active_limits():
    return (
        LossLimit.objects.filter(enabled=True)
        .exclude(max_loss__isnull=True, profit_target__isnull=True)
        .select_related("user", "account")
    )


def evaluate_limits(limits=None) -> dict:
    """Read every limited account once, then check each limit. Returns a summary."""
    limits = list(active_limits() if limits is None else limits)
    wanted: dict[int, tuple[BrokerAccount, bool]] = {}
    for limit in limits:
        for account in accounts_for(limit):
            _, before = wanted.get(account.pk, (account, False))
            wanted[account.pk] = (account, before or limit.include_holdings)
    readings: dict[int, DayReading] = {}
    for pk, (account, holdings) in wanted.items():
        try:
            readings[pk] = read_account(account=account, include_holdings=holdings)
        except Exception:  # one account's trouble is its unknown P&L, not everyone's
            logger.exception("day P&L of account %s could not be read", pk)
    summary = {}
    for limit in limits:
        figures = figures_for(limit, readings_for(limit, readings))
        halt = check_limit(limit, figures)
        summary[str(limit.pk)] = f"halt {halt.pk}" if halt else str(figures.pnl)
    return summary


def readings_for(limit: LossLimit, readings: dict[int, DayReading]) -> dict[int, DayReading]:
    """The readings as `limit` counts them: a limit without holdings reads positions
    only, even where another limit on the same account asked for holdings too (the
    watch and the dashboard both compare this, so they show the same figure)."""
    if limit.include_holdings:
        return readings
    return {pk: _without_holdings(r) for pk, r in readings.items()}


def _without_holdings(reading: DayReading) -> DayReading:
    """The reading as a positions-only limit sees it."""
    if reading.realised is None or reading.unrealised is None:
        return reading  # positions unread: unknown either way
    return DayReading(
        account_id=reading.account_id,
        trading_day=reading.trading_day,
        start_capital=reading.start_capital,
        realised=reading.realised,
        unrealised=reading.unrealised,
        pnl=reading.realised + reading.unrealised,
        read_at=reading.read_at,
    )


def watch() -> dict:
    """The beat task's body: in market hours, evaluate the limits and retry halts'
    actions that failed or wait on the broker."""
    if not clock.is_open():
        return {"skipped": "market closed"}
    summary = evaluate_limits()
    summary["retried"] = str(halts.retry_actions())
    return summary
