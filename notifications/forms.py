from __future__ import annotations

from django import forms

from .kinds import labels
from .models import Preferences


class PreferencesForm(forms.Form):
    email_enabled = forms.BooleanField(required=False, label="Send e-mail")
    email_address = forms.EmailField(
        required=False, label="E-mail address", help_text="Empty: your account's address."
    )
    email_kinds = forms.MultipleChoiceField(
        required=False, choices=labels, widget=forms.CheckboxSelectMultiple, label="E-mail me"
    )
    telegram_enabled = forms.BooleanField(required=False, label="Send to Telegram")
    telegram_kinds = forms.MultipleChoiceField(
        required=False, choices=labels, widget=forms.CheckboxSelectMultiple, label="Telegram me"
    )
    quiet_start = forms.TimeField(
        required=False,
        label="Quiet hours from",
        widget=forms.TimeInput(attrs={"type": "time"}),
        help_text="India time; messages wait until quiet hours end.",
    )
    quiet_end = forms.TimeField(
        required=False, label="Quiet hours until", widget=forms.TimeInput(attrs={"type": "time"})
    )

    @classmethod
    def for_prefs(cls, prefs: Preferences) -> PreferencesForm:
        return cls(
            initial={
                "email_enabled": prefs.email_enabled,
                "email_address": prefs.email_address,
                "email_kinds": prefs.email_kinds,
                "telegram_enabled": prefs.telegram_enabled,
                "telegram_kinds": prefs.telegram_kinds,
                "quiet_start": prefs.quiet_start,
                "quiet_end": prefs.quiet_end,
            }
        )

    def __init__(self, *args, telegram_problem: str = "", **kwargs):
        """`telegram_problem`: why Telegram cannot be sent to yet ("" when it can)."""
        super().__init__(*args, **kwargs)
        self.telegram_problem = telegram_problem

    def clean(self):
        data = super().clean()
        if data.get("telegram_enabled") and self.telegram_problem:
            # Switched on, nothing could ever be delivered, and nothing would say so.
            self.add_error("telegram_enabled", self.telegram_problem)
        start, end = data.get("quiet_start"), data.get("quiet_end")
        if (start is None) != (end is None):
            raise forms.ValidationError("Give quiet hours both a start and an end (or neither).")
        return data
