"""The morning login reminder and the end-of-day summary (beat, India time).

The reminder goes to accounts whose adapter declares `daily_login` (the session
ends every morning and only the user can log in again) and that have not logged
in since the session ended (06:00 India time). Never a broker's name here.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db.models import Sum
from django.utils import timezone

from brokers.models import BrokerAccount
from brokers.registry import UnknownBroker
from orders.models import Order, OrderEvent
from portfolio.models import Position
from sigmatrader.formatting import inr, inr_number

from .classify import Cause, mask_id
from .kinds import Kind
from .services import notify

IST = ZoneInfo("Asia/Kolkata")
SESSION_ENDS = 6  # hour, India time, when daily sessions end


def _name(account: BrokerAccount) -> str:
    name = account.display_name
    if account.broker_user_id:
        name += f" ({mask_id(account.broker_user_id)})"
    return name


def _daily(account: BrokerAccount) -> bool:
    try:
        return bool(account.adapter_class.capabilities.daily_login)
    except UnknownBroker:
        return False


def login_reminders(*, now: datetime | None = None) -> int:
    now = now or timezone.now()
    local = timezone.localtime(now, IST)
    ended = local.replace(hour=SESSION_ENDS, minute=0, second=0, microsecond=0)
    if local < ended:
        ended -= timedelta(days=1)
    causes = []
    for account in BrokerAccount.objects.select_related("user").order_by("id"):
        if not _daily(account):
            continue
        fresh = (
            account.status == BrokerAccount.Status.CONNECTED
            and account.connected_at is not None
            and account.connected_at >= ended
        )
        if fresh:
            continue
        causes.append(
            Cause(
                Kind.SESSION,
                account.user_id,
                "Daily login needed",
                f"{_name(account)} needs its daily login before the market opens at 09:15 IST: "
                "Settings → Accounts → Connect.",
                f"login:{account.pk}:{local:%Y-%m-%d}",
            )
        )
    return len(notify(causes, now=now))


def day_summaries(*, now: datetime | None = None) -> int:
    """Per account with activity today: orders, fills, rejections, and the day's P&L."""
    now = now or timezone.now()
    local = timezone.localtime(now, IST)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    counts = defaultdict(lambda: defaultdict(int))
    for account_id, status in Order.objects.filter(
        created_at__gte=start, account__isnull=False
    ).values_list("account_id", "status"):
        counts[account_id]["orders"] += 1
        counts[account_id][status] += 1
    fills = defaultdict(int)
    for account_id in OrderEvent.objects.filter(
        at__gte=start,
        to_status__in=[Order.Status.EXECUTED, Order.Status.PARTIALLY_FILLED],
        order__account__isnull=False,
    ).values_list("order__account_id", flat=True):
        fills[account_id] += 1
    pnl = {
        row["account_id"]: row["total"]
        for row in Position.objects.filter(account_id__in=list(counts))
        .values("account_id")
        .annotate(total=Sum("pnl"))
    }
    causes = []
    for account in BrokerAccount.objects.filter(pk__in=list(counts)).select_related("user"):
        mine = counts[account.pk]
        paper = "[PAPER] " if _paper(account) else ""
        problems = mine[Order.Status.REJECTED] + mine[Order.Status.FAILED]
        day_pnl = pnl.get(account.pk)
        body = (
            f"{_name(account)}, {local:%d %b}: {inr_number(mine['orders'])} order(s), "
            f"{inr_number(mine[Order.Status.EXECUTED])} executed, {inr_number(fills[account.pk])} "
            f"fill update(s), {inr_number(problems)} rejected or failed"
            + (f"; P&L {inr(day_pnl or Decimal('0'))}" if day_pnl is not None else "")
            + "."
        )
        causes.append(
            Cause(
                Kind.DAILY_SUMMARY,
                account.user_id,
                f"{paper}End of day",
                body,
                f"eod:{account.pk}:{local:%Y-%m-%d}",
            )
        )
    return len(notify(causes, now=now))


def _paper(account: BrokerAccount) -> bool:
    try:
        return bool(account.adapter_class.capabilities.resettable)
    except UnknownBroker:
        return False
