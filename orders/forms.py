"""The order form, shaped by the destination account's capabilities."""

from __future__ import annotations

from copy import copy
from typing import cast

from django import forms
from django.contrib.auth.models import User
from django.core.validators import MinValueValidator
from django.db import models

from brokers import selectors as broker_selectors
from brokers.models import BrokerAccount

from . import conditional, exit_plans, risk_symbols
from .broker_request import uses_price, uses_trigger
from .models import Order, RiskPolicy, Strategy
from .validation import InvalidOrder, validate


class RefusalMixin(forms.Form):
    def refuse(self, exc: InvalidOrder) -> None:
        """Show an order rule's refusal on the field it names (or above the form)."""
        field = exc.field if exc.field in self.fields else None
        self.add_error(field, exc.message)


def _choice_field(form: forms.BaseForm, name: str) -> forms.ChoiceField:
    return cast(forms.ChoiceField, form.fields[name])


class OrderForm(RefusalMixin, forms.Form):
    account: forms.ModelChoiceField[BrokerAccount] = forms.ModelChoiceField(
        queryset=None, label="Send to", empty_label=None
    )
    symbol = forms.CharField(
        max_length=64,
        label="Instrument",
        widget=forms.TextInput(attrs={"autocomplete": "off", "placeholder": "e.g. NSE:SBIN"}),
    )
    side = forms.ChoiceField(choices=Order.Side.choices, initial=Order.Side.BUY)
    quantity = forms.IntegerField(min_value=1, max_value=10_000_000, initial=1)
    order_type = forms.ChoiceField(choices=Order.OrderType.choices, label="Type")
    product = forms.ChoiceField(choices=Order.Product.choices)
    price = forms.DecimalField(required=False, min_value=0, decimal_places=4, max_digits=14)
    trigger_price = forms.DecimalField(required=False, min_value=0, decimal_places=4, max_digits=14)
    validity = forms.ChoiceField(
        choices=Order.Validity.choices, initial=Order.Validity.DAY, required=False
    )
    disclosed_quantity = forms.IntegerField(
        required=False,
        min_value=0,
        max_value=10_000_000,
        label="Disclosed qty",
        help_text="Shown to the market; blank shows all.",
    )
    amo = forms.BooleanField(required=False, label="After-market order (AMO)")
    gtt = forms.BooleanField(required=False, label="GTT")
    condition = forms.ChoiceField(
        choices=Order.Condition.choices, required=False, label="Trigger when"
    )
    trigger_value = forms.DecimalField(
        required=False, min_value=0, decimal_places=4, max_digits=14, label="Trigger value"
    )
    expires_days = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=365,
        initial=365,
        label="Expires in (days)",
        help_text="An MIS (intraday) GTT ends at the day's square-off.",
    )
    oco_trigger_value = forms.DecimalField(
        required=False, min_value=0, decimal_places=4, max_digits=14, label="OCO: other trigger"
    )
    oco_price = forms.DecimalField(
        required=False, min_value=0, decimal_places=4, max_digits=14, label="OCO: other leg's price"
    )

    stop_loss = forms.CharField(
        required=False,
        max_length=24,
        label="Stop-loss",
        help_text='A price, "2%" or "15pts" from the fill.',
    )
    target = forms.CharField(
        required=False,
        max_length=24,
        label="Target",
        help_text='A price, "3%" or "25pts" from the fill.',
    )
    trailing_stop = forms.CharField(
        required=False,
        max_length=24,
        label="Trailing stop",
        help_text='Distance from the best price: "1%" or "10pts". Only tightens.',
    )
    trail_activation = forms.CharField(
        required=False,
        max_length=24,
        label="Trail from",
        help_text="Start trailing at this level (price, % or pts); blank: at once.",
    )

    EXIT_FIELDS = exit_plans.FIELDS

    GTT_FIELDS = (
        "gtt",
        "condition",
        "trigger_value",
        "expires_days",
        "oco_trigger_value",
        "oco_price",
    )

    def __init__(self, *args, user: User, account: BrokerAccount | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.accounts = broker_selectors.accounts_of(user)
        self._account_field.queryset = self.accounts
        chosen = account or self._bound_account() or broker_selectors.default_account(user)
        if chosen is not None:
            self.initial.setdefault("account", chosen.pk)
            self.restrict_to(chosen)
        self.chosen_account = chosen

    @property
    def _account_field(self) -> forms.ModelChoiceField:
        return cast(forms.ModelChoiceField, self.fields["account"])

    def _bound_account(self):
        raw = self.data.get("account") if self.is_bound else None
        if raw and str(raw).isdigit():
            return self.accounts.filter(pk=int(raw)).first()
        return None

    def restrict_to(self, account: BrokerAccount) -> None:
        """Offer only what the account's broker supports (same template for all brokers)."""
        caps = account.adapter_class.capabilities
        _choice_field(self, "product").choices = [
            (value, label) for value, label in Order.Product.choices if value in caps.products
        ]
        _choice_field(self, "order_type").choices = [
            (value, label) for value, label in Order.OrderType.choices if value in caps.order_types
        ]
        if not caps.amo:
            del self.fields["amo"]
        validities = [v for v, _ in Order.Validity.choices if v in caps.validities]
        if len(validities) < 2:  # only DAY: nothing to choose
            del self.fields["validity"]
        else:
            _choice_field(self, "validity").choices = [
                (value, label) for value, label in Order.Validity.choices if value in validities
            ]
        if not caps.disclosed_quantity:
            del self.fields["disclosed_quantity"]
        # One GTT concept; the label says where the trigger lives. A broker's GTT is for
        # delivery (CNC/NRML): an MIS one is managed here (conditional.native_for).
        self.gtt_label_mis = ""
        if caps.gtt:
            broker = account.broker_label
            self.fields["gtt"].label = f"GTT at {broker}"
            # Shown instead while MIS is the chosen product (app.css, .gtt-if-mis).
            self.gtt_label_mis = f"GTT watched by SigmaTrader (MIS: {broker}'s GTT is for delivery)"
            self.fields["gtt"].help_text = (
                f"CNC/NRML: the trigger lives at {broker} and places a LIMIT order. MIS: "
                f"{broker}'s GTT is for delivery, so SigmaTrader watches the price and sends "
                "the order itself (needs the app running; MARKET allowed) until the day's "
                "intraday square-off."
            )
            self.gtt_mode = "native"
        else:
            self.fields[
                "gtt"
            ].label = f"GTT — managed by SigmaTrader ({account.broker_label} has no native GTT)"
            self.gtt_mode = "managed"

    def clean(self):
        super().clean()
        data = self.cleaned_data
        kind = data.get("order_type")
        if kind in (Order.OrderType.LIMIT, Order.OrderType.SL) and not data.get("price"):
            self.add_error("price", f"A {kind} order needs a price.")
        if kind in (Order.OrderType.SL, Order.OrderType.SL_M) and not data.get("trigger_price"):
            self.add_error("trigger_price", f"A {kind} order needs a trigger price.")
        disclosed = data.get("disclosed_quantity")
        if disclosed and data.get("quantity") and disclosed > data["quantity"]:
            self.add_error("disclosed_quantity", "Cannot be more than the quantity.")
        if data.get("gtt"):
            if not data.get("condition"):
                self.add_error("condition", "Choose when the GTT triggers.")
            if not data.get("trigger_value"):
                self.add_error("trigger_value", "A GTT needs a trigger value.")
            account = data.get("account") or self.chosen_account
            native = conditional.native_for(account, data.get("product", ""))
            if account is not None and native and kind != Order.OrderType.LIMIT:
                self.add_error(
                    "order_type",
                    f"A {data.get('product')} GTT at {account.broker_label} places a LIMIT "
                    "order (an MIS one, watched by SigmaTrader, may be MARKET).",
                )
            if (
                data.get("oco_trigger_value")
                and kind == Order.OrderType.LIMIT
                and not data.get("oco_price")
            ):
                self.add_error("oco_price", "The other leg needs a price too.")
        self._clean_exit_plan(data)
        return data

    def _clean_exit_plan(self, data: dict) -> None:
        """Parse the exit plan (orders/exit_plans.py); a malformed part is refused on
        its own field, and a price level on the wrong side of a priced entry too."""
        self.plan = None
        if not all(name in self.fields for name in self.EXIT_FIELDS):
            return
        errors: list[tuple[str, str]] = []  # every bad part at once, each at its field
        try:
            self.plan = exit_plans.parse_plan(**{name: data.get(name) for name in self.EXIT_FIELDS})
        except exit_plans.ExitPlanError as exc:
            errors += exc.errors.items()
        if self.plan is not None:
            side = data.get("side", "")
            reference = data.get("price") if data.get("order_type") in ("LIMIT", "SL") else None
            for check in (
                lambda plan: exit_plans.check_against(plan, side=side, reference=reference),
                lambda plan: exit_plans.check_entry(
                    plan, side=side, product=data.get("product", "")
                ),
            ):
                try:
                    check(self.plan)
                except exit_plans.ExitPlanError as exc:
                    errors += exc.errors.items()
        for name, message in errors:
            self.add_error(name, message)
        if errors:
            self.plan = None

    def exit_plan(self) -> exit_plans.Plan | None:
        """The parsed exit plan of a valid form (None: no protection asked)."""
        return getattr(self, "plan", None)

    @property
    def exit_mode(self) -> str:
        """Where the exits will live, for the form's hint (the product may still change)."""
        account = self.chosen_account
        if account is None:
            return ""
        caps = account.adapter_class.capabilities
        if caps.gtt:
            return (
                f"CNC/NRML: held at {account.broker_label} as one GTT (OCO). "
                "MIS: watched and sent by SigmaTrader (needs the app running) until the "
                "intraday square-off."
            )
        return (
            "Managed by SigmaTrader: it watches the price and sends the exit "
            "(needs the app running)."
        )

    HEAD_FIELDS = ("account", "symbol", "amo")

    @property
    def main_fields(self):
        skip = set(self.HEAD_FIELDS) | set(self.GTT_FIELDS) | set(self.EXIT_FIELDS)
        return [field for field in self if field.name not in skip]

    @property
    def exit_fields(self):
        return [self[name] for name in self.EXIT_FIELDS if name in self.fields]

    @property
    def exit_errors(self) -> bool:
        return any(self[name].errors for name in self.EXIT_FIELDS if name in self.fields)

    @property
    def gtt_detail_fields(self):
        return [self[name] for name in self.GTT_FIELDS[1:] if name in self.fields]

    def gtt_values(self) -> dict | None:
        data = self.cleaned_data
        if not data.get("gtt"):
            return None
        return {
            "condition": data["condition"],
            "trigger_value": data["trigger_value"],
            "expires_days": data.get("expires_days") or 365,
            "oco_trigger_value": data.get("oco_trigger_value"),
            "oco_price": data.get("oco_price"),
        }

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
            "validity": data.get("validity") or Order.Validity.DAY,
            "disclosed_quantity": data.get("disclosed_quantity") or 0,
        }


class ModifyForm(RefusalMixin, forms.Form):
    """Change an order open at the broker: quantity, order type, price, trigger.

    Checked like a new order (positive, tick, lot, what the order type needs)
    by the same rules execution applies, before anything is sent."""

    quantity = forms.IntegerField(min_value=1, max_value=10_000_000)
    order_type = forms.ChoiceField(choices=Order.OrderType.choices, label="Type")
    price = forms.DecimalField(required=False, decimal_places=4, max_digits=14)
    trigger_price = forms.DecimalField(
        required=False, decimal_places=4, max_digits=14, label="Trigger"
    )

    def __init__(self, *args, order: Order, **kwargs):
        kwargs.setdefault("auto_id", f"modify-{order.pk}-%s")
        kwargs.setdefault(
            "initial",
            {
                "quantity": order.quantity,
                "order_type": order.order_type,
                "price": order.price,
                "trigger_price": order.trigger_price,
            },
        )
        super().__init__(*args, **kwargs)
        self.order = order
        if order.account is not None:
            caps = order.account.adapter_class.capabilities
            _choice_field(self, "order_type").choices = [
                (value, label)
                for value, label in Order.OrderType.choices
                if value in caps.order_types
            ]
        for name in ("price", "trigger_price"):
            self.fields[name].widget.attrs.update(inputmode="decimal")

    def clean(self):
        super().clean()
        data = self.cleaned_data
        kind = data.get("order_type")
        for name, label in (("price", "price"), ("trigger_price", "trigger price")):
            value = data.get(name)
            if value is not None and value <= 0:
                self.add_error(name, f"The {label} must be above 0.")
        # One message per field: a refused value is not also reported missing.
        if kind and uses_price(kind) and not data.get("price") and "price" not in self.errors:
            self.add_error("price", f"A {kind} order needs a price.")
        if (
            kind
            and uses_trigger(kind)
            and not data.get("trigger_price")
            and "trigger_price" not in self.errors
        ):
            self.add_error("trigger_price", f"A {kind} order needs a trigger price.")
        quantity = data.get("quantity")
        if quantity and quantity < self.order.filled_quantity:
            self.add_error(
                "quantity",
                f"{self.order.filled_quantity} are already filled: "
                "the quantity cannot be less than that.",
            )
        if self.errors:
            return data
        kind, quantity = data["order_type"], data["quantity"]  # required: there once valid
        candidate = copy(self.order)  # the order as it would be: the same rules as a new one
        candidate.quantity = quantity
        candidate.order_type = kind
        candidate.price = data.get("price") if uses_price(kind) else None
        candidate.trigger_price = data.get("trigger_price") if uses_trigger(kind) else None
        try:
            validate(candidate)
        except InvalidOrder as exc:
            self.refuse(exc)
        return data

    def changes(self) -> dict:
        """The keyword arguments for `actions.modify`: only what differs from the order."""
        data, order = self.cleaned_data, self.order
        kind = data["order_type"]
        wanted = {
            "quantity": data["quantity"],
            "order_type": kind,
            "price": data.get("price") if uses_price(kind) else None,
            "trigger_price": data.get("trigger_price") if uses_trigger(kind) else None,
        }
        return {
            name: value
            for name, value in wanted.items()
            if value is not None and value != getattr(order, name)
        }


class RiskPolicyForm(forms.ModelForm):
    class Meta:
        model = RiskPolicy
        fields = [
            "max_order_value",
            "max_quantity",
            "max_orders_per_day",
            "max_open_positions",
            "allow_short_selling",
            "allowed_symbols",
            "denied_symbols",
            "mode",
        ]
        labels = {"max_order_value": "Max order value (₹)", "mode": "When an order is over a limit"}
        help_texts = {
            "max_order_value": "MARKET orders are valued at the last price.",
            "allow_short_selling": "Off: a SELL may not exceed what the account holds.",
        }
        widgets = {
            "allowed_symbols": forms.Textarea(attrs={"rows": 2}),
            "denied_symbols": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A limit of 0 (or less) on value or quantity would refuse every order.
        for name in ("max_order_value", "max_quantity"):
            cast(forms.IntegerField, self.fields[name]).min_value = 1
            # One message per field: this bound replaces the model's own (≥ 0).
            self.fields[name].validators = [
                v for v in self.fields[name].validators if not isinstance(v, MinValueValidator)
            ] + [MinValueValidator(1)]
            self.fields[name].widget.attrs["min"] = 1
        for name in ("max_orders_per_day", "max_open_positions"):
            cast(forms.IntegerField, self.fields[name]).min_value = 0
            self.fields[name].widget.attrs["min"] = 0

    def clean_allowed_symbols(self):
        return risk_symbols.clean_symbols(self.cleaned_data.get("allowed_symbols", ""))

    def clean_denied_symbols(self):
        return risk_symbols.clean_symbols(self.cleaned_data.get("denied_symbols", ""))


DEDUP_FIELDS = ("dedup_window_seconds", "dedup_unkeyed_window_seconds")


class StrategyForm(forms.ModelForm):
    class Meta:
        model = Strategy
        fields = [
            "name",
            "account",
            "mode",
            "enabled",
            "default_product",
            "default_order_type",
            "default_quantity",
            "default_stop_loss",
            "default_target",
            "default_trailing_stop",
            "default_trail_activation",
            "dedup_window_seconds",
            "dedup_unkeyed_window_seconds",
            "notes",
        ]
        labels = {"account": "Account"}
        widgets = {"notes": forms.Textarea(attrs={"rows": 2})}
        help_texts = {
            "default_stop_loss": 'Exit plan for its entries: a price, "2%" or "15pts" from the '
            "fill; an alert's own stop_loss/target/trailing_stop win. Blank: none.",
            "default_target": 'A price, "3%" or "25pts" from the fill.',
            "default_trailing_stop": '"1%" or "10pts" from the best price; only tightens.',
            "default_trail_activation": "Start trailing at this level; blank: at once.",
        }

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        account = cast(forms.ModelChoiceField, self.fields["account"])
        account.queryset = broker_selectors.accounts_of(user)
        account.empty_label = "My default account"
        for name in DEDUP_FIELDS:  # left empty: the current (or default) window stays
            self.fields[name].required = False

    def _window(self, name):
        value = self.cleaned_data.get(name)
        if value is None:
            current = getattr(self.instance, name, None)
            field = cast(models.Field, Strategy._meta.get_field(name))
            return current if current is not None else field.get_default()
        return value

    def clean_dedup_window_seconds(self):
        return self._window("dedup_window_seconds")

    def clean_dedup_unkeyed_window_seconds(self):
        return self._window("dedup_unkeyed_window_seconds")

    def clean(self):
        super().clean()
        data = self.cleaned_data
        given = {name: data.get(f"default_{name}") or "" for name in exit_plans.FIELDS}
        try:
            plan = exit_plans.parse_plan(**given)
        except exit_plans.ExitPlanError as exc:
            for name, message in exc.errors.items():  # every bad part, each at its field
                self.add_error(f"default_{name}", message)
            return data
        texts = plan.texts if plan else dict.fromkeys(exit_plans.FIELDS, "")
        for name, text in texts.items():  # stored normalised ("2%", "15pts", "812.5")
            data[f"default_{name}"] = text
        return data

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        clash = Strategy.objects.filter(user=self.user, name=name).exclude(pk=self.instance.pk)
        if clash.exists():
            raise forms.ValidationError("You already have a strategy with this name.")
        return name


class StrategyRiskForm(RiskPolicyForm):
    """A strategy's own risk limits, used instead of the account-wide policy when on."""

    override = forms.BooleanField(
        required=False,
        label="Own risk limits for this strategy",
        help_text="Off: the account-wide policy applies.",
    )
    field_order = ["override"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["mode"].required = False  # only asked for when the override is on

    def clean(self):
        super().clean()
        data = self.cleaned_data
        if data.get("override") and not data.get("mode"):
            self.add_error("mode", "Choose what happens when an order is over a limit.")
        if not data.get("mode"):
            data["mode"] = RiskPolicy.Mode.REJECT
            self.instance.mode = RiskPolicy.Mode.REJECT
        return data

    def save_or_remove(self) -> None:
        policy = self.instance
        if self.cleaned_data.get("override"):
            self.save()
        elif policy.pk:
            policy.delete()
