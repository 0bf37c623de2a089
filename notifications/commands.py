"""Commands from a linked chat only (issue 19, item 6): /positions, /pnl, /orders,
and /kill with a confirmation reply.

A message from a chat no user linked gets no data. Answers read what the last
syncs stored (never a broker call per message). /kill asks first; the reply to
confirm carries a one-time code valid for two minutes, and only then is the
capital-protection kill switch pressed for all the user's accounts.
"""

from __future__ import annotations

import html
import secrets
from decimal import Decimal

from django.core.cache import cache
from django.db.models import Sum
from django.utils import timezone

from orders.models import Order
from portfolio.selectors import positions_of
from sigmatrader.formatting import inr, inr_number

from .models import Preferences

KILL_CONFIRM_SECONDS = 120
ROWS = 15
HELP = (
    "Commands: /positions (open positions), /pnl (today's P&amp;L per account), "
    "/orders (today's orders), /kill (halt all trading; asks to confirm)."
)


def answer(*, chat_id: str, text: str) -> str | None:
    """The reply to a command from `chat_id` (HTML), or None when it is no command."""
    words = text.strip().split()
    if not words or not words[0].startswith("/"):
        return None
    command = words[0].split("@")[0].lower()
    if command == "/start":
        return None  # linking: services.poll_telegram
    prefs = Preferences.objects.select_related("user").filter(telegram_chat_id=chat_id).first()
    if prefs is None:
        return "This chat is not linked to SigmaTrader: Settings → Notifications → Link Telegram."
    user = prefs.user
    if command == "/positions":
        return _positions(user)
    if command == "/pnl":
        return _pnl(user)
    if command == "/orders":
        return _orders(user)
    if command == "/kill":
        return _kill(user, chat_id, words[1:])
    return HELP


def _positions(user) -> str:
    rows = [p for p in positions_of(user).select_related("account") if p.quantity]
    if not rows:
        return "No open positions (as of the last portfolio sync)."
    lines = ["<b>Open positions</b>"]
    for p in rows[:ROWS]:
        lines.append(
            f"{html.escape(p.symbol)} {inr_number(p.quantity)} @ {inr(p.average_price)} · "
            f"P&amp;L {inr(p.pnl)} · {html.escape(p.account.label)}"
        )
    if len(rows) > ROWS:
        lines.append(f"… and {len(rows) - ROWS} more.")
    return "\n".join(lines)


def _pnl(user) -> str:
    totals = (
        positions_of(user)
        .values("account__label")
        .annotate(total=Sum("pnl"))
        .order_by("account__label")
    )
    if not totals:
        return "No positions today (as of the last portfolio sync)."
    lines = ["<b>Today's P&amp;L (positions)</b>"]
    grand = Decimal("0")
    for row in totals:
        grand += row["total"] or 0
        lines.append(f"{html.escape(row['account__label'])}: {inr(row['total'] or 0)}")
    lines.append(f"Total: {inr(grand)}")
    return "\n".join(lines)


def _orders(user) -> str:
    start = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    orders = list(Order.objects.filter(user=user, created_at__gte=start).order_by("-id")[:ROWS])
    if not orders:
        return "No orders today."
    lines = ["<b>Today's orders</b> (newest first)"]
    for order in orders:
        lines.append(
            f"#{order.pk} {order.side} {inr_number(order.quantity)} {html.escape(order.symbol)}: "
            f"{html.escape(order.get_status_display())}"
        )
    return "\n".join(lines)


def _kill(user, chat_id: str, words: list[str]) -> str:
    key = f"notifications:kill:{chat_id}"
    if len(words) == 2 and words[0].upper() == "ALL":
        expected = cache.get(key)
        if not expected or not secrets.compare_digest(str(expected), words[1].upper()):
            return "That confirmation is wrong or has expired: send /kill again."
        cache.delete(key)
        return _press(user)
    code = secrets.token_hex(3).upper()
    cache.set(key, code, KILL_CONFIRM_SECONDS)
    return (
        "<b>Kill switch</b>: this halts trading on ALL your accounts (new entries blocked, "
        "open entries cancelled, intraday positions squared off, AUTO strategies paused). "
        f"To confirm within 2 minutes, send:\n<code>/kill ALL {code}</code>"
    )


def _press(user) -> str:
    from protection import halts

    halt = halts.kill_switch(user=user, account=None, typed="ALL", actor="telegram")
    return f"Kill switch pressed: trading halted for {html.escape(str(halt.scope_name))}."
