"""What can notify: the kinds a user switches on or off per channel.

Each kind is decided from a record some app already wrote (notifications/classify.py);
nothing here decides what happened. Capital protection's events (issue 18: a
protective exit triggered, the daily halt tripped, the kill switch) map onto
GTT_TRIGGERED and HALT when they appear.
"""

from __future__ import annotations

from django.db import models


class Kind(models.TextChoices):
    ORDER_EXECUTED = "order_executed", "Order executed"
    ORDER_PARTIAL = "order_partial", "Order partly filled"
    ORDER_PROBLEM = "order_problem", "Order rejected, failed or unknown"
    GTT_TRIGGERED = "gtt_triggered", "GTT or protective exit triggered"
    RISK_BLOCK = "risk_block", "Risk block"
    HALT = "halt", "Daily halt or kill switch"
    ALERT_FIRED = "alert_fired", "Alert fired"
    WEBHOOK_REFUSED = "webhook_refused", "Webhook delivery refused"
    SESSION = "session", "Broker session expired or daily login needed"
    INSTRUMENTS_FAILED = "instruments_failed", "Instrument refresh failed"
    DAILY_SUMMARY = "daily_summary", "End-of-day summary"
    TEST = "test", "Test message"


# What a user may switch (the test message is always allowed).
CHOOSABLE = [kind for kind in Kind if kind != Kind.TEST]
DEFAULT_ON = [kind.value for kind in CHOOSABLE]

# Capital protection (issue 18) event kinds, as they may name themselves in an
# event's details["kind"] (or details["notify"]), and the kind each notifies as.
PROTECTION_KINDS = {
    "protective_exit_triggered": Kind.GTT_TRIGGERED,
    "protective_exit": Kind.GTT_TRIGGERED,
    "exit_triggered": Kind.GTT_TRIGGERED,
    "halt_tripped": Kind.HALT,
    "daily_halt": Kind.HALT,
    "kill_switch": Kind.HALT,
    "kill_switch_engaged": Kind.HALT,
}


def labels() -> list[tuple[str, str]]:
    return [(kind.value, kind.label) for kind in CHOOSABLE]
