"""Trading halts as execution sees them: is this order an entry a halt blocks?

A `TradingHalt` (orders.models) is in force for its trading day (India date)
until it is released. While one covers an order's account (its own halt, or a
halt of all the user's accounts), the execution claim refuses the order if it
is an ENTRY, and lets an EXIT go.

What an exit is (everything else is an entry):

- a SELL of at most what the account holds long of that instrument in that
  product (delivery: holdings plus the delivery position; intraday/carry
  forward: the net long position), or
- a BUY of at most the account's net SHORT position of that instrument in that
  product.

A protective exit (an exit leg of an entry, `Order.protects`) is always an exit.
So square-offs, protective exits and sales out of holdings go; a new buy, an
add to a position, a short sale, or an order larger than what it closes (a
flip is partly an entry) is refused whole. The positions are the portfolio's
(synced rows), which `orders` may not import: the app that reads them
registers a check here (`register_exit_check`). With no check registered every
order counts as an entry (a halt never lets an order through by default).
"""

from __future__ import annotations

from collections.abc import Callable

from django.db.models import Q, QuerySet
from django.utils import timezone

from marketdata import clock

from .models import Order, TradingHalt

# What an AUTO alert's order says when a halt kept it in the queue (the sweeper leaves
# such an order to its trader instead of sending it once the halt ends).
QUEUED_AS_MANUAL = "Queued as MANUAL because of the halt"

ExitCheck = Callable[[Order], bool]
_exit_checks: list[ExitCheck] = []


def register_exit_check(check: ExitCheck) -> ExitCheck:
    """Add a check saying whether `order` only reduces what its account holds."""
    if check not in _exit_checks:
        _exit_checks.append(check)
    return check


def is_exit(order: Order) -> bool:
    # A protective exit (a stop-loss or target leg) only ever closes what its entry
    # filled (protection sizes its legs so): it must go during a halt even when the
    # positions it reduces have not been synced yet.
    if order.source == Order.Source.PROTECTION and order.protects_id:
        return True
    return any(check(order) for check in _exit_checks)


PolicyLookup = Callable[[TradingHalt], str | None]
_policy_lookups: list[PolicyLookup] = []


def register_webhook_policy(lookup: PolicyLookup) -> PolicyLookup:
    """Add a lookup of the trader's current setting for AUTO alerts during `halt` (the
    app that owns the setting registers it; None: no setting, the halt's own applies)."""
    if lookup not in _policy_lookups:
        _policy_lookups.append(lookup)
    return lookup


def webhook_policy(halt: TradingHalt) -> str:
    """What an AUTO alert meets during `halt` (queue or refuse): the setting as it is when
    the alert arrives, so changing it acts on the halt already in force; the policy the
    halt was started with only when no setting covers its scope."""
    for lookup in _policy_lookups:
        value = lookup(halt)
        if value in TradingHalt.WebhookPolicy.values:
            return value
    return halt.webhook_policy


def in_force(*, user_id: int, account_id: int | None = None, day=None) -> QuerySet[TradingHalt]:
    """Halts in force today covering `account_id` (its own, and the all-accounts one);
    with no account, every halt of the user in force today."""
    day = day or clock.trading_day()
    halts = TradingHalt.objects.filter(user_id=user_id, trading_day=day, released_at__isnull=True)
    if account_id is not None:
        halts = halts.filter(Q(account_id=account_id) | Q(account__isnull=True))
    return halts


def halt_for(order: Order) -> TradingHalt | None:
    """The halt in force over the order's account, if any (exit or not)."""
    return in_force(user_id=order.user_id, account_id=order.account_id).order_by("pk").first()


def blocking_halt(order: Order) -> TradingHalt | None:
    """The halt that refuses `order` now: one is in force and the order is an entry."""
    halt = halt_for(order)
    if halt is None or is_exit(order):
        return None
    return halt


def reason_text(halt: TradingHalt) -> str:
    """The halt's reason inside a sentence: "daily loss limit reached", "day P&L unknown"
    (only the first letter lowered: P&L stays P&L)."""
    text = str(halt.get_reason_display())
    return text[:1].lower() + text[1:]


def refusal(halt: TradingHalt) -> str:
    """What a refused entry says."""
    when = timezone.localtime(halt.created_at, clock.IST).strftime("%H:%M")
    return (
        f"Trading halted for {halt.scope_name} since {when} IST "
        f"({reason_text(halt)}): new entries are blocked until the next "
        "trading day or until you release the halt; exits still go."
    )
