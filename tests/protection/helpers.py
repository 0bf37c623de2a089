"""Helpers for the protection tests."""


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
