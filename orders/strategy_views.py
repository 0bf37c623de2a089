"""Settings → Strategies and the TradingView webhook card; the Alerts page."""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.forms import BaseForm
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from brokers import selectors as broker_selectors
from sigmatrader.http import AuthedHttpRequest
from sigmatrader.pages import page_or_fragment, paginate, wants_fragment
from sigmatrader.params import filters
from sigmatrader.settings_page import settings_context
from sigmatrader.site import is_public_https, site_url

from . import selectors, webhook
from .filters import AlertFilterForm
from .forms import StrategyForm, StrategyRiskForm
from .models import RiskPolicy, Strategy, WebhookAlert, WebhookEndpoint
from .presentation import risk_form_for
from .webhook_forms import WebhookSecretForm

ALERT_TEMPLATE = """{
  "strategy_name": "%s",
  "symbol": "{{exchange}}:{{ticker}}",
  "interval": "{{interval}}",
  "bar_time": "{{time}}",
  "alert_id": "{{strategy.order.id}}-{{timenow}}",
  "trade_details": {
    "order_action": "{{strategy.order.action}}",
    "quantity": "{{strategy.order.contracts}}",
    "price": "{{strategy.order.price}}",
    "stop_loss": "",
    "target": "",
    "trailing_stop": "",
    "trail_activation": "",
    "comment": "{{strategy.order.comment}}"
  }
}"""


def webhook_context(request: AuthedHttpRequest, new_token: str = "") -> dict:
    endpoint = WebhookEndpoint.objects.filter(user=request.user).first()
    base = site_url(request, reverse("tradingview-webhook", args=["TOKEN"]))
    overridden = RiskPolicy.objects.filter(strategy=OuterRef("pk"))
    strategies = list(
        Strategy.objects.filter(user=request.user).annotate(has_risk_override=Exists(overridden))
    )
    # Each strategy's account from one load of the user's accounts (a joined copy per
    # strategy would decrypt that account's stored secrets again, per strategy).
    mine = {account.pk: account for account in broker_selectors.accounts_of(request.user)}
    for strategy in strategies:
        if strategy.account_id in mine:
            strategy.account = mine[strategy.account_id]
    example = strategies[0].name if strategies else "My strategy"
    return {
        "endpoint": endpoint,
        "webhook_url": base.replace("TOKEN", new_token) if new_token else "",
        "masked_url": base.replace("TOKEN", f"…{endpoint.token_hint}") if endpoint else "",
        "public_url": is_public_https(base),
        "strategies": strategies,
        "strategy_form": StrategyForm(user=request.user),
        "secret_form": WebhookSecretForm(),
        "alert_message": ALERT_TEMPLATE % example,
    }


def settings_section(request: AuthedHttpRequest) -> dict:
    """The risk limits and webhook cards of the Settings page."""
    return {"risk_form": risk_form_for(request.user), **webhook_context(request)}


def _card(
    request: AuthedHttpRequest, new_token: str = "", *, status: int = 200, **forms: BaseForm
) -> HttpResponse:
    """The webhook card over HTMX; the whole Settings page otherwise (errors shown in place)."""
    context = {} if wants_fragment(request) else settings_context(request)
    context.update(webhook_context(request, new_token))
    context.update(forms)
    return page_or_fragment(
        request, "sigmatrader/settings.html", "orders/_strategies_card.html", context, status=status
    )


@require_POST
def rotate_token(request: AuthedHttpRequest) -> HttpResponse:
    token = webhook.issue_token(request.user)
    messages.warning(request, "Copy the webhook URL now: it is shown only this once.")
    return _card(request, new_token=token)


@require_POST
def save_secret(request: AuthedHttpRequest) -> HttpResponse:
    form = WebhookSecretForm(request.POST)
    if not form.is_valid():
        return _card(request, status=422, secret_form=form)
    secret = form.cleaned_data["secret"]
    if not WebhookEndpoint.objects.filter(user=request.user).exists():
        webhook.issue_token(request.user)
    webhook.set_secret(request.user, secret)
    messages.success(request, "Webhook secret saved." if secret else "Webhook secret removed.")
    return _card(request)


@require_http_methods(["POST"])
def create_strategy(request: AuthedHttpRequest) -> HttpResponse:
    form = StrategyForm(request.POST, user=request.user)
    if form.is_valid():
        strategy = form.save(commit=False)
        strategy.user = request.user
        strategy.save()
        messages.success(request, f"Strategy {strategy.name} created.")
        return _card(request)
    return _card(request, status=422, strategy_form=form)


@require_http_methods(["GET", "POST"])
def edit_strategy(request: AuthedHttpRequest, strategy_id: int) -> HttpResponse:
    strategy = get_object_or_404(Strategy, pk=strategy_id, user=request.user)
    data = request.POST if request.method == "POST" else None
    form = StrategyForm(
        data, instance=strategy, user=request.user, auto_id=f"strategy-{strategy.pk}-%s"
    )
    override = RiskPolicy.objects.filter(strategy=strategy, user=request.user).first()
    risk = StrategyRiskForm(
        data,
        instance=override or RiskPolicy(user=request.user, strategy=strategy),
        prefix="risk",
        auto_id=f"strategy-{strategy.pk}-risk-%s",
        initial={"override": override is not None},
    )
    if request.method == "POST" and form.is_valid() and risk.is_valid():
        with transaction.atomic():
            form.save()
            risk.save_or_remove()
        messages.success(request, f"Strategy {strategy.name} saved.")
        response = _card(request)
        response["HX-Retarget"] = "#strategies"  # the edit row asked; the whole card answers
        return response
    context = {"form": form, "risk": risk, "strategy": strategy}
    if request.method == "POST" and not wants_fragment(request):
        # Without HTMX the edit row has no page around it: the Settings page says what failed.
        messages.error(request, f"Strategy {strategy.name} not saved: {_errors(form, risk)}")
        return _card(request, status=422)
    status = 422 if request.method == "POST" else 200
    return render(request, "orders/_strategy_edit.html", context, status=status)


def _errors(*forms) -> str:
    return "; ".join(
        f"{form.fields[name].label if name in form.fields else 'Form'}: {' '.join(errors)}"
        for form in forms
        for name, errors in form.errors.items()
    )


@require_POST
def toggle_strategy(request: AuthedHttpRequest, strategy_id: int) -> HttpResponse:
    strategy = get_object_or_404(Strategy, pk=strategy_id, user=request.user)
    strategy.enabled = not strategy.enabled
    strategy.save(update_fields=["enabled"])
    messages.info(
        request, f"Strategy {strategy.name} {'enabled' if strategy.enabled else 'disabled'}."
    )
    return _card(request)


@require_GET
def alerts(request: AuthedHttpRequest) -> HttpResponse:
    _form, applied = filters(AlertFilterForm, request.GET)
    outcome = applied.get("outcome", "")
    page = paginate(request, selectors.alert_list(user=request.user, outcome=outcome), 50)
    context = {"page": page, "outcome": outcome, "outcomes": WebhookAlert.Outcome.choices}
    return page_or_fragment(request, "orders/alerts.html", "orders/_alerts_table.html", context)
