"""The order form, shaped by the destination account's capabilities."""

from django import forms

from brokers import selectors

from .models import Order


class OrderForm(forms.Form):
    account = forms.ModelChoiceField(queryset=None, label="Send to", empty_label=None)
    symbol = forms.CharField(
        max_length=64,
        label="Instrument",
        widget=forms.TextInput(attrs={"autocomplete": "off", "placeholder": "e.g. NSE:SBIN"}),
    )
    side = forms.ChoiceField(choices=Order.Side.choices, initial=Order.Side.BUY)
    quantity = forms.IntegerField(min_value=1, initial=1)
    order_type = forms.ChoiceField(choices=Order.OrderType.choices, label="Type")
    product = forms.ChoiceField(choices=Order.Product.choices)
    price = forms.DecimalField(required=False, min_value=0, decimal_places=4, max_digits=14)
    trigger_price = forms.DecimalField(required=False, min_value=0, decimal_places=4, max_digits=14)
    amo = forms.BooleanField(required=False, label="After-market order (AMO)")

    def __init__(self, *args, user, account=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = selectors.accounts_of(user)
        chosen = account or self._bound_account() or selectors.default_account(user)
        if chosen is not None:
            self.initial.setdefault("account", chosen.pk)
            self.restrict_to(chosen)
        self.chosen_account = chosen

    def _bound_account(self):
        raw = self.data.get("account") if self.is_bound else None
        if raw and str(raw).isdigit():
            return self.fields["account"].queryset.filter(pk=int(raw)).first()
        return None

    def restrict_to(self, account) -> None:
        """Offer only what the account's broker supports (same template for all brokers)."""
        caps = account.adapter_class.capabilities
        self.fields["product"].choices = [
            (value, label) for value, label in Order.Product.choices if value in caps.products
        ]
        self.fields["order_type"].choices = [
            (value, label) for value, label in Order.OrderType.choices if value in caps.order_types
        ]
        if not caps.amo:
            del self.fields["amo"]

    def clean(self):
        data = super().clean()
        kind = data.get("order_type")
        if kind in (Order.OrderType.LIMIT, Order.OrderType.SL) and not data.get("price"):
            self.add_error("price", f"A {kind} order needs a price.")
        if kind in (Order.OrderType.SL, Order.OrderType.SL_M) and not data.get("trigger_price"):
            self.add_error("trigger_price", f"A {kind} order needs a trigger price.")
        return data

    def order_values(self) -> dict:
        data = self.cleaned_data
        kind = data["order_type"]
        return {
            "side": data["side"],
            "quantity": data["quantity"],
            "order_type": kind,
            "product": data["product"],
            "price": data.get("price") if kind in ("LIMIT", "SL") else None,
            "trigger_price": data.get("trigger_price") if kind in ("SL", "SL-M") else None,
            "variety": Order.Variety.AMO if data.get("amo") else Order.Variety.REGULAR,
        }
