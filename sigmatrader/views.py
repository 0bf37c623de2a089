from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from brokers.presentation import settings_context as accounts_context
from marketdata.presentation import instruments_status
from orders.presentation import risk_form_for
from orders.strategy_views import webhook_context

from . import health, params, setup
from .forms import EventFilterForm, FirstAccountForm
from .pages import page_or_fragment, paginate
from .security_views import security_context
from .selectors import events_visible_to


@login_not_required
@never_cache
@require_http_methods(["GET", "POST"])
def home(request):
    """The dashboard; on a fresh install, the form that creates the first account."""
    if setup.needs_first_run():
        return first_run(request)
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if request.method != "GET":
        raise Http404
    from portfolio.dashboard import dashboard_for

    return render(request, "sigmatrader/dashboard.html", {"board": dashboard_for(request.user)})


def first_run(request):
    form = FirstAccountForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = setup.create_first_account(
                username=form.cleaned_data["username"],
                email=form.cleaned_data["email"],
                password=form.cleaned_data["password1"],
            )
        except setup.AlreadySetUp:
            messages.error(request, "SigmaTrader is already set up: sign in instead.")
            return redirect("login")
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, f"Welcome, {user.get_username()}. Your account is ready.")
        return redirect("dashboard")
    return render(request, "sigmatrader/first_run.html", {"form": form})


@require_GET
def events(request):
    form, filters = params.filters(EventFilterForm, request.GET or None)
    queryset = events_visible_to(
        request.user,
        level=filters.get("level", ""),
        category=filters.get("category", ""),
        q=filters.get("q", ""),
    )
    context = {"form": form, "page": paginate(request, queryset, settings.EVENTS_PAGE_SIZE)}
    return page_or_fragment(
        request, "sigmatrader/events.html", "sigmatrader/_events_table.html", context
    )


def settings_context(request) -> dict:
    """Everything the Settings page shows; a view that re-renders it with a bound form
    (errors next to the fields) overrides that form's key."""
    context = accounts_context(request)
    context["instruments"] = instruments_status()
    context["risk_form"] = risk_form_for(request.user)
    context.update(webhook_context(request))
    context.update(security_context(request))
    return context


@require_GET
def settings_page(request):
    return render(request, "sigmatrader/settings.html", settings_context(request))


@login_not_required
@never_cache
@require_GET
def healthz(request):
    checks = {"database": health.database_ok(), "task_queue": health.task_queue_ok()}
    healthy = all(checks.values())
    body = {"status": "ok" if healthy else "unavailable"}
    body.update({name: "ok" if ok else "unavailable" for name, ok in checks.items()})
    return JsonResponse(body, status=200 if healthy else 503)
