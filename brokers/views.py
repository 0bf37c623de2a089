from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sigmatrader.http import AuthedHttpRequest
from sigmatrader.pages import redirect_back, safe_next
from sigmatrader.site import site_url

from . import accounts, connections, registry, selectors
from .base import BrokerError, ConnectFlow
from .forms import AccountForm, ConnectForm
from .models import BrokerAccount


def _adapter_or_404(name: str):
    try:
        return registry.get_adapter_class(name)
    except registry.UnknownBroker:
        raise Http404("No such broker") from None


def _back(request: AuthedHttpRequest, default: str = "settings") -> HttpResponse:
    return redirect_back(request, default)


@require_http_methods(["GET", "POST"])
def add_account(request: AuthedHttpRequest) -> HttpResponse:
    broker = request.GET.get("broker") or request.POST.get("broker")
    if not broker:
        return render(request, "brokers/choose_broker.html", {"adapters": registry.all_adapters()})
    adapter = _adapter_or_404(broker)
    form = AccountForm(request.POST or None, adapter=adapter, user=request.user)
    if request.method == "POST" and form.is_valid():
        account = accounts.create_account(
            user=request.user,
            broker=broker,
            label=form.cleaned_data["label"],
            credentials=form.credentials(),
        )
        if adapter.connect_flow is ConnectFlow.NONE:  # nothing to sign in to: ready now
            return _connect_without_login(request, account)
        messages.success(request, f"{account.display_name} added. Connect it to start trading.")
        return redirect("settings")
    return render(
        request,
        "brokers/account_form.html",
        {"form": form, "adapter": adapter, "broker": broker, "account": None},
    )


@require_http_methods(["GET", "POST"])
def edit_account(request: AuthedHttpRequest, account_id: int) -> HttpResponse:
    account = selectors.account_for(request.user, account_id)
    form = AccountForm(
        request.POST or None, adapter=account.adapter_class, account=account, user=request.user
    )
    if request.method == "POST" and form.is_valid():
        accounts.update_credentials(
            account=account, label=form.cleaned_data["label"], credentials=form.credentials()
        )
        messages.success(request, f"{account.display_name} saved.")
        return redirect("settings")
    return render(
        request,
        "brokers/account_form.html",
        {
            "form": form,
            "adapter": account.adapter_class,
            "broker": account.broker,
            "account": account,
        },
    )


@require_http_methods(["GET", "POST"])
def connect(request: AuthedHttpRequest, account_id: int) -> HttpResponse:
    account = selectors.account_for(request.user, account_id)
    if account.secrets_unreadable:  # nothing to connect with: enter the credentials again
        messages.error(request, account.secrets_problem)
        return redirect("brokers:edit", account_id=account.pk)
    adapter = account.adapter_class
    if adapter.connect_flow is ConnectFlow.OAUTH_REDIRECT:
        return redirect(connections.start_redirect_login(account=account))
    if adapter.connect_flow is ConnectFlow.NONE:
        if request.method == "POST":
            return _connect_without_login(request, account)
        # A GET changes nothing: it asks (the form has no fields, just the button).
        form = ConnectForm(account=account)
        return render(request, "brokers/connect_form.html", {"form": form, "account": account})
    form = ConnectForm(request.POST if request.method == "POST" else None, account=account)
    if request.method == "POST" and form.is_valid():
        try:
            connections.connect_with_credentials(account=account, per_connect=form.cleaned_data)
        except connections.ConnectError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"{account.display_name} connected.")
            return redirect("settings")
    return render(request, "brokers/connect_form.html", {"form": form, "account": account})


def _connect_without_login(request: AuthedHttpRequest, account: BrokerAccount) -> HttpResponse:
    try:
        connections.connect_with_credentials(account=account, per_connect={})
    except connections.ConnectError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{account.display_name} is ready.")
    return redirect("settings")


@require_http_methods(["GET", "POST"])
def reset(request: AuthedHttpRequest, account_id: int) -> HttpResponse:
    """A simulated account back to its starting state, after a confirmation."""
    account = selectors.account_for(request.user, account_id)
    if not account.adapter_class.capabilities.resettable:
        raise Http404
    if request.method == "POST":
        connections.reset(account=account)
        messages.success(request, f"{account.display_name} was reset to its starting cash.")
        return redirect("settings")
    return render(request, "brokers/confirm_reset.html", {"account": account})


@require_GET
def callback(request: AuthedHttpRequest, broker: str) -> HttpResponse:
    _adapter_or_404(broker)
    try:
        account = connections.complete_redirect_login(
            user=request.user, broker=broker, params=request.GET
        )
    except connections.ConnectError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{account.display_name} connected.")
    return redirect("settings")


@require_POST
def disconnect(request: AuthedHttpRequest, account_id: int) -> HttpResponse:
    account = selectors.account_for(request.user, account_id)
    connections.disconnect(account=account)
    messages.success(request, f"{account.display_name} disconnected.")
    return _back(request)


@require_POST
def make_default(request: AuthedHttpRequest, account_id: int) -> HttpResponse:
    """Settings' explicit "Make default": where "my default account" strategies send orders."""
    account = selectors.account_for(request.user, account_id)
    accounts.make_default(account=account)
    messages.success(
        request,
        f"{account.display_name} is now your default account: TradingView strategies set "
        "to “my default account” will send orders here.",
    )
    return _back(request)


@require_POST
def switch(request: AuthedHttpRequest) -> HttpResponse:
    """The top-bar switcher: view another account in this browser session.

    It never changes the default account (where AUTO orders go): that is
    Settings' "Make default".
    """
    account = selectors.account_for(request.user, request.POST.get("account") or 0)
    selectors.remember_view(request, account)
    return _back_viewing(request, account)


def _back_viewing(request: AuthedHttpRequest, account: BrokerAccount) -> HttpResponse:
    """Back to `next`, with its `?account=` (if any) naming the account now viewed."""
    from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

    target = safe_next(request)
    if not target:
        return redirect("dashboard")
    parts = urlsplit(target)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k not in ("account", "scope", "page")]
    query.append(("account", str(account.pk)))
    return redirect(urlunsplit(parts._replace(query=urlencode(query))))


@require_http_methods(["GET", "POST"])
def delete_account(request: AuthedHttpRequest, account_id: int) -> HttpResponse:
    account = selectors.account_for(request.user, account_id)
    if request.method == "POST":
        if not account.secrets_unreadable and account.session:
            connections.disconnect(account=account)
        name = account.display_name
        accounts.delete_account(account=account)
        messages.success(request, f"{name} deleted.")
        return redirect("settings")
    return render(request, "brokers/confirm_delete.html", {"account": account})


@require_POST
def check(request: AuthedHttpRequest, account_id: int) -> HttpResponse:
    account = selectors.account_for(request.user, account_id)
    if connections.check(account=account):
        messages.success(request, f"{account.display_name}: the session works.")
    else:
        account.refresh_from_db()
        messages.error(request, f"{account.display_name}: {account.last_error or 'not connected'}")
    return _back(request)


@require_GET
def funds(request: AuthedHttpRequest, account_id: int) -> HttpResponse:
    """HTMX fragment: available cash and used margin, fetched live."""
    account = selectors.account_for(request.user, account_id)
    context: dict[str, object] = {"account": account, "funds": None, "error": ""}
    if not account.is_connected:
        context["error"] = "Not connected."
    else:
        try:
            with connections.calling(account) as adapter:
                context["funds"] = adapter.funds()
        except BrokerError as exc:
            context["error"] = exc.message
    return render(request, "brokers/_funds.html", context)


def callback_url(request: HttpRequest, broker: str) -> str:
    return site_url(request, reverse("brokers:callback", args=[broker]))
