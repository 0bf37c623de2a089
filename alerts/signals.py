"""A broker account is about to be removed: the rules that watch its holdings or
trade on it are disabled, each saying why, instead of deleted or left to act on
another scope (see AlertRule.holdings_account)."""

from __future__ import annotations

from django.db.models import Q

from .models import AlertRule


def on_account_removed(sender, instance, **kwargs) -> None:
    account = instance
    rules = AlertRule.objects.filter(
        Q(holdings_account=account) | Q(action_account=account), user_id=account.user_id
    )
    rules.update(
        enabled=False,
        status_ok=False,
        status_message=(
            f"Disabled: its account {account.display_name} was removed. Edit the rule to "
            "choose another account."
        )[:500],
    )
