"""Writes for the alerts pages: save, toggle, delete rules; mark notifications read."""

from __future__ import annotations

from django.db import transaction

from .models import AlertEvent, AlertRule, AlertState


def save_rule(*, user, fields: dict, rule: AlertRule | None = None) -> AlertRule:
    """Create a rule, or update `rule`. A changed condition or target starts its
    crossings afresh (the stored previous values were of another condition)."""
    for account_field in ("holdings_account", "action_account"):
        account = fields.get(account_field)
        if account is not None and account.user_id != user.pk:
            raise PermissionError("a rule can only name its user's accounts")
    with transaction.atomic():
        if rule is None:
            rule = AlertRule(user=user)
            changed_condition = True
        else:
            changed_condition = any(
                getattr(rule, name) != fields[name]
                for name in ("expression", "target", "symbol", "cadence")
            ) or rule.holdings_account_id != getattr(fields.get("holdings_account"), "pk", None)
        for name, value in fields.items():
            setattr(rule, name, value)
        if fields.get("enabled"):
            rule.status_ok, rule.status_message = True, ""
        rule.save()
        if changed_condition:
            AlertState.objects.filter(rule=rule).delete()
    return rule


class CannotEnable(ValueError):
    pass


def set_enabled(*, rule: AlertRule, enabled: bool) -> AlertRule:
    """Enable or disable; an expired rule stays off until its expiry is changed."""
    if enabled and rule.expired():
        raise CannotEnable("This rule has expired: edit its expiry to enable it again.")
    rule.enabled = enabled
    fields = ["enabled", "updated_at"]
    if enabled:
        rule.status_ok, rule.status_message = True, ""
        fields += ["status_ok", "status_message"]
    with transaction.atomic():
        rule.save(update_fields=fields)
        if enabled and rule.trigger == AlertRule.Trigger.ONCE:
            # Enabled again: armed again, for every symbol (once per symbol).
            AlertState.objects.filter(rule=rule).update(last_fired_at=None, last_fired_bar=None)
    return rule


def delete_rule(*, rule: AlertRule) -> None:
    rule.delete()


def mark_seen(*, user) -> int:
    return AlertEvent.objects.filter(user=user, seen=False).update(seen=True)
