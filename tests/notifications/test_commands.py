"""Commands from a linked chat only: /positions, /pnl, /orders, /kill (confirmed)."""

from __future__ import annotations

import re
from decimal import Decimal

from notifications import services
from portfolio.models import Position

from .conftest import CHAT
from .helpers import account_of, order_of


def ask(telegram, text, chat=CHAT):
    telegram.state.add_message(chat_id=chat, text=text)
    services.poll_telegram()
    return telegram.state.messages_to(chat)[-1].text


def test_an_unlinked_chat_gets_no_data(user, prefs, telegram):
    account = account_of(user)
    order_of(account, symbol="SECRETCO")
    reply = ask(telegram, "/orders", chat=1111)
    assert "not linked" in reply and "SECRETCO" not in reply


def test_orders_positions_and_pnl_from_the_linked_chat(user, other_user, prefs, telegram):
    account = account_of(user)
    order_of(account, symbol="M&M")
    order_of(account_of(other_user, label="theirs"), symbol="NOTMINE")
    for symbol, pnl in (("SBIN", "1200.50"), ("TCS", "-200")):
        Position.objects.create(
            account=account,
            symbol=symbol,
            exchange="NSE",
            product="MIS",
            quantity=5,
            average_price=Decimal("100"),
            last_price=Decimal("110"),
            pnl=Decimal(pnl),
        )
    orders = ask(telegram, "/orders")
    assert "M&amp;M" in orders and "NOTMINE" not in orders
    positions = ask(telegram, "/positions")
    assert "SBIN 5 @ ₹100.00" in positions and "TCS" in positions
    pnl = ask(telegram, "/pnl")
    assert "main: ₹1,000.50" in pnl and "Total: ₹1,000.50" in pnl
    assert "Commands:" in ask(telegram, "/help")


def test_kill_asks_for_a_confirmation_first(user, prefs, telegram):
    first = ask(telegram, "/kill")
    assert "To confirm" in first
    code = re.search(r"/kill ALL ([0-9A-F]{6})", first).group(1)
    assert "wrong or has expired" in ask(telegram, "/kill ALL 000000")
    pressed = ask(telegram, f"/kill ALL {code}")
    assert "Kill switch pressed: trading halted for" in pressed
    from orders.models import TradingHalt

    halt = TradingHalt.objects.get(user=user)
    assert halt.reason == TradingHalt.Reason.KILL_SWITCH and halt.account is None
    assert "wrong or has expired" in ask(telegram, f"/kill ALL {code}")  # once only
