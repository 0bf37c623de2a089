from __future__ import annotations

from decimal import Decimal

from django import forms

from .importing import CSV_FIELDS, ImportRefused, check_bytes
from .models import Watchlist


class ListForm(forms.Form):
    name = forms.CharField(max_length=80)
    kind = forms.ChoiceField(choices=Watchlist.Kind.choices, initial=Watchlist.Kind.WATCHLIST)
    description = forms.CharField(max_length=300, required=False)


class EditListForm(forms.Form):
    name = forms.CharField(max_length=80)
    description = forms.CharField(max_length=300, required=False)


class BasketForm(forms.Form):
    funds = forms.DecimalField(
        label="Funds (₹)", min_value=Decimal("1"), max_digits=14, decimal_places=2
    )
    mode = forms.ChoiceField(label="Allocation", choices=Watchlist.Mode.choices)


class MemberForm(forms.Form):
    note = forms.CharField(label="Note", max_length=200, required=False)
    section = forms.CharField(label="Section", max_length=80, required=False)
    weight = forms.DecimalField(
        label="Weight %", required=False, min_value=0, max_value=100, max_digits=7, decimal_places=3
    )
    amount = forms.DecimalField(
        label="Amount ₹", required=False, min_value=0, max_digits=14, decimal_places=2
    )
    quantity = forms.IntegerField(
        label="Quantity", required=False, min_value=0, max_value=10_000_000
    )
    locked = forms.BooleanField(label="Lock", required=False)


class ImportForm(forms.Form):
    FORMATS = [("auto", "Detect"), ("tradingview", "TradingView list"), ("csv", "CSV")]

    text = forms.CharField(
        label="Paste the list",
        required=False,
        widget=forms.Textarea(attrs={"rows": 6, "placeholder": "###Banks,NSE:SBIN,NSE:HDFCBANK"}),
        strip=False,
    )
    file = forms.FileField(label="Or upload a file", required=False)
    format = forms.ChoiceField(choices=FORMATS, initial="auto")
    account = forms.TypedChoiceField(
        label="Check symbols for",
        coerce=int,
        help_text="Symbols are resolved for this account's broker.",
    )
    into = forms.TypedChoiceField(label="Import into", coerce=int, empty_value=0, required=False)
    name = forms.CharField(label="New list's name", max_length=80, required=False)
    kind = forms.ChoiceField(choices=Watchlist.Kind.choices, initial=Watchlist.Kind.WATCHLIST)

    def __init__(self, *args, user, accounts, lists, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].choices = [(a.pk, a.display_name) for a in accounts]
        self.fields["into"].choices = [(0, "A new list")] + [(w.pk, w.name) for w in lists]

    def clean_file(self):
        """The file's size is checked whatever else is missing, so both are said at once."""
        upload = self.cleaned_data.get("file")
        if upload:
            try:
                check_bytes(upload.size)
            except ImportRefused as exc:
                raise forms.ValidationError(exc.message) from None
        return upload

    def clean(self):
        data = super().clean()
        if not data.get("into") and not (data.get("name") or "").strip():
            self.add_error("name", "Name the new list, or choose a list to import into.")
        if data.get("file") and (data.get("text") or "").strip():
            # Which one did the trader mean? Never drop one of them silently.
            self.add_error(
                "text", "Paste a list or upload a file, not both: clear the box or the file."
            )
        return data


class MappingForm(forms.Form):
    """Which CSV column holds what; built from the file's header."""

    def __init__(self, *args, header: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", "—")] + [(h, h) for h in header if h]
        for name in CSV_FIELDS:
            self.fields[f"map_{name}"] = forms.ChoiceField(
                label=name.title(), choices=choices, required=name == "symbol"
            )

    def mapping(self) -> dict[str, str]:
        return {
            name: self.cleaned_data.get(f"map_{name}") or ""
            for name in CSV_FIELDS
            if self.cleaned_data.get(f"map_{name}")
        }


class BasketOrderForm(forms.Form):
    """Funds and allocation, and the terms of the orders (for the preview, buy and sell)."""

    funds = forms.DecimalField(
        label="Funds (₹)", min_value=Decimal("1"), max_digits=14, decimal_places=2, required=False
    )
    mode = forms.ChoiceField(label="Allocation", choices=Watchlist.Mode.choices, required=False)
    product = forms.ChoiceField(choices=[("CNC", "CNC (delivery)"), ("MIS", "MIS (intraday)")])
    order_type = forms.ChoiceField(
        label="Order type", choices=[("LIMIT", "LIMIT at LTP ± buffer"), ("MARKET", "MARKET")]
    )
    buffer_pct = forms.DecimalField(
        label="Buffer %", min_value=0, max_value=5, decimal_places=2, initial=Decimal("0.5")
    )
    amo = forms.BooleanField(label="After-market order (AMO) when closed", required=False)

    def clean(self):
        data = super().clean()
        if self.data.get("action") in ("preview", "queue", "now", "now_confirm"):
            if data.get("funds") is None and "funds" not in self.errors:
                self.add_error("funds", "How much to put in?")
            if not data.get("mode") and "mode" not in self.errors:
                self.add_error("mode", "Choose how to share the funds.")
        return data
