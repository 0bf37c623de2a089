from __future__ import annotations

from django import forms

from .models import Adjustment


class ImportForm(forms.Form):
    account = forms.TypedChoiceField(label="Account", coerce=int)
    file = forms.FileField(
        label="Trade export (CSV)",
        help_text="Your broker's own trade history download. At most 5 MB.",
    )

    def __init__(self, *args, accounts=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].choices = [
            (a.pk, f"{a.display_name} — {a.adapter_class.trade_export_label}") for a in accounts
        ]


class AdjustmentForm(forms.Form):
    symbol = forms.CharField(
        max_length=64, help_text="The exchange's name, e.g. INFY (INFY-EQ is read as INFY)."
    )
    exchange = forms.CharField(
        max_length=10, required=False, help_text="Blank: every exchange it trades on."
    )
    kind = forms.ChoiceField(choices=Adjustment.Kind.choices)
    ex_date = forms.DateField(label="Ex-date", widget=forms.DateInput(attrs={"type": "date"}))
    old = forms.IntegerField(label="Held", min_value=1, max_value=1_000_000, initial=1)
    new = forms.IntegerField(
        label="Become",
        min_value=1,
        max_value=1_000_000,
        help_text="Split 1:5 → held 1, become 5. Bonus 1:1 → held 1, become 2.",
    )


class OpeningLotForm(forms.Form):
    acquired_on = forms.DateField(
        label="Bought on", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


class CoversForm(forms.Form):
    """The days an import covers: every trading day in it counts as captured."""

    covers_from = forms.DateField(
        label="This file covers from",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    covers_to = forms.DateField(
        label="to", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


class MarkNoTradesForm(forms.Form):
    start = forms.DateField(
        label="From",
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={
            "required": "Give the first day (From) of the days with no trades.",
            "invalid": "The first day (From) is not a date.",
        },
    )
    end = forms.DateField(
        label="to",
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={
            "required": "Give the last day (to) of the days with no trades.",
            "invalid": "The last day (to) is not a date.",
        },
    )
