"""The rule form (builder or expression), the screener form."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils import timezone

from brokers import selectors as broker_selectors
from brokers.models import BrokerAccount
from marketdata.resolution import SymbolNotFound, resolve
from watchlists.selectors import lists_of

from .builder import CHOICES, KINDS, BuilderError, to_expression
from .expressions import ExpressionError, parse
from .models import AlertRule, ScreenerRun, plain_number
from .screener import SEGMENTS
from .targets import split_symbol

CLAUSES = 4  # builder rows on the form
MA_CHOICES = [("sma", "SMA"), ("ema", "EMA")]


def watchlist_choices(user) -> list[tuple[int, str]]:
    return [(w.pk, w.name) for w in lists_of(user).only("pk", "name").order_by("name")]


class AlertRuleForm(forms.Form):
    name = forms.CharField(max_length=80)
    enabled = forms.BooleanField(required=False, initial=True, label="Enabled")
    target = forms.ChoiceField(
        choices=AlertRule.Target.choices, initial=AlertRule.Target.SYMBOL, widget=forms.RadioSelect
    )
    symbol = forms.CharField(max_length=64, required=False, label="Symbol")
    holdings_account = forms.ModelChoiceField(
        queryset=BrokerAccount.objects.none(),
        required=False,
        empty_label="All accounts",
        label="Holdings of",
    )
    watchlist_id = forms.TypedChoiceField(
        coerce=int, required=False, empty_value=None, label="Watchlist"
    )
    mode = forms.ChoiceField(
        choices=[("builder", "Pick conditions"), ("expression", "Write an expression")],
        initial="builder",
        widget=forms.RadioSelect,
        label="Condition",
    )
    join = forms.ChoiceField(
        choices=[("and", "All of them (AND)"), ("or", "Any of them (OR)")], initial="and"
    )
    expression = forms.CharField(
        required=False,
        max_length=1000,
        widget=forms.TextInput(
            attrs={"placeholder": "e.g. crosses_above(ema(close, 9), ema(close, 21))"}
        ),
    )
    cadence = forms.ChoiceField(choices=AlertRule.Cadence.choices, initial="tick")
    trigger = forms.ChoiceField(choices=AlertRule.Trigger.choices, initial="once")
    cooldown_minutes = forms.IntegerField(
        min_value=0, max_value=7 * 24 * 60, initial=5, label="Cooldown (minutes)"
    )
    market_hours_only = forms.BooleanField(required=False, initial=True)
    expires_at = forms.DateTimeField(
        required=False,
        label="Expires (IST)",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    action = forms.ChoiceField(choices=AlertRule.Action.choices, initial="notify")
    action_account = forms.ModelChoiceField(
        queryset=BrokerAccount.objects.none(), required=False, label="Order on account"
    )
    side = forms.ChoiceField(choices=[("BUY", "Buy"), ("SELL", "Sell")], initial="BUY")
    sizing = forms.ChoiceField(choices=AlertRule.Sizing.choices, initial="qty")
    size = forms.DecimalField(
        required=False, min_value=Decimal("0.0001"), max_digits=16, decimal_places=4
    )
    product = forms.ChoiceField(choices=[("CNC", "Delivery (CNC)"), ("MIS", "Intraday (MIS)")])

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        accounts = broker_selectors.accounts_of(user).order_by("pk")
        self.fields["holdings_account"].queryset = accounts
        self.fields["action_account"].queryset = accounts
        self.fields["watchlist_id"].choices = [("", "Choose a list"), *watchlist_choices(user)]
        data = self.data if self.is_bound else {}
        self.clauses = []
        for i in range(CLAUSES):
            initial = self.initial.get("clauses") or []
            start = initial[i] if i < len(initial) else {}
            self.clauses.append(
                {
                    "index": i,
                    "kind": data.get(f"c{i}_kind", start.get("kind", "")),
                    "value": data.get(f"c{i}_value", start.get("value", "")),
                    "period": data.get(f"c{i}_period", start.get("period", "")),
                    "slow": data.get(f"c{i}_slow", start.get("slow", "")),
                    "ma": data.get(f"c{i}_ma", start.get("ma", "sma")),
                }
            )
        self.kinds = CHOICES
        self.kind_specs = KINDS
        self.ma_choices = MA_CHOICES
        self.clause_error = ""
        self.expression_column = None

    def clean(self):
        data = super().clean()
        target = data.get("target")
        if target == AlertRule.Target.SYMBOL:
            exchange, symbol = split_symbol(data.get("symbol", ""))
            if not symbol:
                self.add_error("symbol", "Enter a symbol, e.g. NSE:SBIN.")
            else:
                data["symbol"] = self._canonical(data.get("symbol", ""), exchange, symbol)
        if target == AlertRule.Target.WATCHLIST and not data.get("watchlist_id"):
            self.add_error("watchlist_id", "Choose a watchlist.")
        clauses = [c for c in self.clauses if c["kind"]]
        if data.get("mode") == "builder":
            try:
                data["expression"] = to_expression(clauses, data.get("join", "and"))
            except BuilderError as exc:
                self.clause_error = exc.message
                self.add_error(None, exc.message)
                return data
            data["builder"] = {"join": data.get("join", "and"), "clauses": clauses}
        else:
            data["builder"] = {}
        try:
            compiled = parse(data.get("expression", ""))
        except ExpressionError as exc:
            self.expression_column = exc.column
            message = f"{exc.message} (column {exc.column})" if exc.column else exc.message
            if data.get("mode") == "builder":
                self.add_error(None, message)
            else:
                self.add_error("expression", message)
            return data
        data["expression"] = compiled.text
        if compiled.uses_holding and target != AlertRule.Target.HOLDINGS:
            self.add_error(None, "pnl_pct, day_pnl_pct, qty and avg_price need a holdings target.")
        if data.get("action") in (AlertRule.Action.QUEUE, AlertRule.Action.AUTO):
            if not data.get("action_account"):
                self.add_error("action_account", "Choose the account the order goes to.")
            elif (
                target == AlertRule.Target.HOLDINGS
                and data.get("holdings_account")
                and data["holdings_account"] != data["action_account"]
            ):
                self.add_error(
                    "action_account",
                    "An order acts on the account that holds the shares: choose the "
                    "holdings account here (or watch all accounts).",
                )
            size = data.get("size")
            sizing = data.get("sizing")
            if not size:
                self.add_error("size", "Enter the order size.")
            elif sizing == AlertRule.Sizing.QUANTITY and (
                size < 1 or size != size.to_integral_value()
            ):
                self.add_error("size", "A quantity is a whole number of shares, 1 or more.")
            elif sizing == AlertRule.Sizing.HOLDING_PCT and size > 100:
                self.add_error("size", "A % of the holding is at most 100.")
            if sizing == AlertRule.Sizing.HOLDING_PCT and data.get("side") == "BUY":
                self.add_error("sizing", "A % of the holding sizes a sell only: choose Sell.")
        expires_at = data.get("expires_at")
        if expires_at is not None and expires_at <= timezone.now():
            shown = timezone.localtime(expires_at).strftime("%d %b %Y %H:%M")
            self.add_error("expires_at", f"{shown} IST has passed: choose a later expiry.")
        if data.get("trigger") == AlertRule.Trigger.EVERY_TIME and not data.get("cooldown_minutes"):
            data["cooldown_minutes"] = 0
        return data

    def _canonical(self, typed: str, exchange: str, symbol: str) -> str:
        """The symbol under its canonical name (a broker's own spelling, SBIN-EQ, picked
        from the search, becomes NSE:SBIN), checked against the chosen order account's
        instruments (the user's first account's without one); as typed when the user has
        no account yet."""
        account = self.cleaned_data.get("action_account") or (
            self.fields["action_account"].queryset.first()
        )
        if account is None:
            return f"{exchange}:{symbol}"
        try:
            instrument = resolve(broker=account.broker, symbol=typed)
        except SymbolNotFound as exc:
            self.add_error("symbol", str(exc))
            return f"{exchange}:{symbol}"
        return f"{instrument.exchange}:{instrument.canonical_symbol}"

    def rule_fields(self) -> dict:
        data = self.cleaned_data
        target = data["target"]
        has_order = data["action"] in (AlertRule.Action.QUEUE, AlertRule.Action.AUTO)
        return {
            "name": data["name"],
            "enabled": data["enabled"],
            "target": target,
            "symbol": data.get("symbol", "") if target == AlertRule.Target.SYMBOL else "",
            "holdings_account": data.get("holdings_account")
            if target == AlertRule.Target.HOLDINGS
            else None,
            "watchlist_id": data.get("watchlist_id")
            if target == AlertRule.Target.WATCHLIST
            else None,
            "builder": data.get("builder") or {},
            "expression": data["expression"],
            "cadence": data["cadence"],
            "trigger": data["trigger"],
            "cooldown_seconds": (data.get("cooldown_minutes") or 0) * 60,
            "market_hours_only": data["market_hours_only"],
            "expires_at": data.get("expires_at"),
            "action": data["action"],
            "action_account": data.get("action_account") if has_order else None,
            "side": data["side"] if has_order else "",
            "sizing": data["sizing"],
            "size": data.get("size") if has_order else None,
            "product": data["product"],
        }


def initial_for(rule: AlertRule) -> dict:
    builder = rule.builder or {}
    return {
        "name": rule.name,
        "enabled": rule.enabled,
        "target": rule.target,
        "symbol": rule.symbol,
        "holdings_account": rule.holdings_account_id,
        "watchlist_id": rule.watchlist_id,
        "mode": "builder" if builder.get("clauses") else "expression",
        "join": builder.get("join", "and"),
        "clauses": builder.get("clauses", []),
        "expression": rule.expression,
        "cadence": rule.cadence,
        "trigger": rule.trigger,
        "cooldown_minutes": rule.cooldown_seconds // 60,
        "market_hours_only": rule.market_hours_only,
        "expires_at": rule.expires_at,
        "action": rule.action,
        "action_account": rule.action_account_id,
        "side": rule.side or "BUY",
        "sizing": rule.sizing,
        "size": plain_number(rule.size),
        "product": rule.product,
    }


class ScreenerForm(forms.Form):
    universe = forms.ChoiceField(choices=ScreenerRun.Universe.choices, initial="holdings")
    account = forms.ModelChoiceField(
        queryset=BrokerAccount.objects.none(),
        required=False,
        empty_label="All accounts",
        label="Holdings of",
    )
    segment = forms.ChoiceField(choices=[(s, s) for s in SEGMENTS], initial="NSE", required=False)
    watchlist_ids = forms.TypedMultipleChoiceField(
        coerce=int, required=False, label="Watchlists", widget=forms.CheckboxSelectMultiple
    )
    expression = forms.CharField(
        max_length=1000,
        widget=forms.TextInput(
            attrs={"placeholder": "e.g. rsi(14) < 30 and close > sma(close, 200)"}
        ),
        label="Condition",
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = broker_selectors.accounts_of(user).order_by("pk")
        self.fields["watchlist_ids"].choices = watchlist_choices(user)

    def clean(self):
        data = super().clean()
        if data.get("universe") == ScreenerRun.Universe.WATCHLIST and not data.get("watchlist_ids"):
            self.add_error("watchlist_ids", "Choose at least one watchlist.")
        return data
