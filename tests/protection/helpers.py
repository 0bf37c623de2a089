"""Shared steps of the protection tests: an entry with a plan, filled on the emulator;
a halt started as a trip would."""

from __future__ import annotations

from decimal import Decimal as D

from orders.execution import create_order, execute
from orders.exit_plans import parse_plan
from orders.models import Order
from orders.sync import order_sync_account
from orders.triggers import check_conditional_orders


def entry(account, *, side="BUY", quantity=10, symbol="SBIN", product="CNC", **plan):
    return create_order(
        user=account.user,
        account=account,
        symbol=f"NSE:{symbol}",
        side=side,
        quantity=quantity,
        product=product,
        actor="alice",
        exit_plan=parse_plan(**plan),
    )


def sync(account, capture):
    """One order-sync cycle with its after-commit receivers run (the fill signal)."""
    with capture(execute=True):
        order_sync_account(account)


def triggers(capture):
    with capture(execute=True):
        return check_conditional_orders()


def legs(order) -> list[Order]:
    return list(Order.objects.filter(protects=order).order_by("pk"))


def by_condition(order) -> dict[str, Order]:
    return {leg.condition: leg for leg in legs(order) if leg.status != "CANCELLED"}


def send(order):
    return execute(order=order, actor="alice")


def halt_now(account, *, all_accounts=False, escalation=1, **fields):
    """Start a halt over `account` (or all its user's accounts) as a trip would."""
    from orders.models import TradingHalt
    from protection import halts

    fields.setdefault("reason", TradingHalt.Reason.LOSS_LIMIT)
    fields.setdefault("message", "test")
    fields.setdefault("figures", {})
    fields.setdefault("actor", "test")
    halt, _ = halts.start_halt(
        user=account.user,
        account=None if all_accounts else account,
        escalation=escalation,
        **fields,
    )
    return halt


__all__ = ["D", "by_condition", "entry", "halt_now", "legs", "send", "sync", "triggers"]
