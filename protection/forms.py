"""Settings → Risk: the daily loss limit form; the kill switch and release forms."""

from __future__ import annotations

from decimal import Decimal

from django import forms

from brokers import selectors as broker_selectors

from .limits import is_paper
from .models import LossLimit

ALL = "all"
# The largest ₹ amount a limit or target takes: ₹ 100 crore. Far above any day's P&L
# of a retail account, far below what the columns hold (18 digits, 2 after the point)
# on every database, so no typo (1e15) is stored as a limit that can never trip.
MAX_RUPEES = Decimal("1000000000")
MAX_RUPEES_TEXT = "₹ 100 crore (₹ 1,00,00,00,000)"
MAX_PERCENT = Decimal("100")


class LossLimitForm(forms.ModelForm):
    scope = forms.ChoiceField(
        label="Applies to",
        help_text="One account, or the sum of all your live (real-money) accounts. Paper "
        "accounts are not in that sum (give one its own limit), unless you have only paper "
        "accounts: then all accounts means the paper ones, so a practice limit works too. "
        "When the sum trips, the halt covers every account, paper included.",
    )

    class Meta:
        model = LossLimit
        fields = [
            "enabled",
            "loss_kind",
            "max_loss",
            "profit_target",
            "include_holdings",
            "escalation",
            "unknown_pnl",
            "webhook_policy",
        ]
        labels = {
            "enabled": "Limit active",
            "loss_kind": "Max loss in",
            "max_loss": "Max loss today",
            "profit_target": "Profit target today (₹, optional)",
            "include_holdings": "Count holdings' day change",
            "escalation": "When reached",
            "unknown_pnl": "When the day's P&L cannot be read",
            "webhook_policy": "AUTO alerts during a halt",
        }
        help_texts = {
            "max_loss": "A positive number: ₹ (at most ₹ 100 crore), or % of start-of-day "
            "capital (at most 100; funds the broker reports at the day's first reading). "
            "Empty: no loss limit.",
            "include_holdings": "Off: realised + unrealised P&L of positions only.",
            "profit_target": "Reaching it halts trading too (locks the day in); at most ₹ 100 "
            "crore. Empty: none.",
            "webhook_policy": "Queue: each waits in the queue with the reason. Refuse: the "
            "alert is answered 423 and no order is made. Exits go either way. A change applies to "
            "a halt already in force too (read as each alert arrives).",
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        accounts = list(broker_selectors.accounts_of(user))
        self.accounts = {str(a.pk): a for a in accounts}
        everyone = (
            "All live accounts (their sum)"
            if any(not is_paper(a) for a in accounts)
            else "All accounts (their sum: your paper accounts)"
        )
        self.fields["scope"].choices = [(ALL, everyone)] + [
            (str(a.pk), a.display_name) for a in accounts
        ]
        self.order_fields(["scope", *self.Meta.fields])
        for name in ("max_loss", "profit_target"):
            self.fields[name].widget.attrs.update(inputmode="decimal")
        if self.instance.pk:
            self.initial["scope"] = str(self.instance.account_id or ALL)

    def clean_max_loss(self):
        value = self.cleaned_data.get("max_loss")
        if value is not None and value <= 0:
            raise forms.ValidationError(
                "A loss limit must be more than 0 (leave it empty for none)."
            )
        return value

    def clean_profit_target(self):
        value = self.cleaned_data.get("profit_target")
        if value is not None and value <= 0:
            raise forms.ValidationError("A profit target must be more than 0 (or empty).")
        if value is not None and value > MAX_RUPEES:
            raise forms.ValidationError(f"A profit target is at most {MAX_RUPEES_TEXT}.")
        return value

    def clean(self):
        data = super().clean()
        max_loss = data.get("max_loss")
        if max_loss is not None and data.get("loss_kind") == LossLimit.LossKind.PERCENT:
            if max_loss > MAX_PERCENT:
                self.add_error(
                    "max_loss",
                    "A percentage of capital is at most 100 (a loss of more than all of "
                    "it cannot happen).",
                )
        elif max_loss is not None and max_loss > MAX_RUPEES:
            self.add_error("max_loss", f"A loss limit is at most {MAX_RUPEES_TEXT}.")
        if (
            data.get("enabled")
            and data.get("max_loss") is None
            and data.get("profit_target") is None
            and "max_loss" not in self.errors
            and "profit_target" not in self.errors
        ):
            self.add_error(
                "max_loss", "Set a max loss or a profit target (or untick Limit active)."
            )
        return data

    @property
    def account(self):
        scope = self.cleaned_data.get("scope")
        return None if scope == ALL else self.accounts.get(scope)


def limit_for_scope(user, scope: str):
    """The user's limit over `scope` ("all" or an account id), or a new one (unsaved)."""
    if scope and scope != ALL:
        account = broker_selectors.accounts_of(user).filter(pk=scope if scope.isdigit() else 0)
        found = account.first()
        if found is None:
            return None
        return LossLimit.objects.filter(user=user, account=found).first() or LossLimit(
            user=user, account=found
        )
    return LossLimit.objects.filter(user=user, account__isnull=True).first() or LossLimit(user=user)


class KillSwitchForm(forms.Form):
    scope = forms.ChoiceField(label="Stop trading on")
    typed = forms.CharField(
        label="Type the account's name (or ALL) to confirm",
        max_length=120,
        help_text="The account's label (the part after the broker's name), or ALL.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        accounts = list(broker_selectors.accounts_of(user))
        self.accounts = {str(a.pk): a for a in accounts}
        self.fields["scope"].choices = [(ALL, "ALL accounts (paper included)")] + [
            (str(a.pk), a.display_name) for a in accounts
        ]

    @property
    def account(self):
        scope = self.cleaned_data.get("scope")
        return None if scope == ALL else self.accounts.get(scope)


class ReleaseForm(forms.Form):
    typed = forms.CharField(
        label="Type RELEASE to confirm",
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
