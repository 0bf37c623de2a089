from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import filesizeformat
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from . import health, params, setup
from .forms import EventFilterForm, FirstAccountForm
from .pages import page_or_fragment, paginate
from .selectors import events_visible_to
from .settings_page import render_settings


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


@require_GET
def settings_page(request):
    return render_settings(request)


@login_not_required
@never_cache
@require_GET
def healthz(request):
    checks = {"database": health.database_ok(), "task_queue": health.task_queue_ok()}
    healthy = all(checks.values())
    body = {"status": "ok" if healthy else "unavailable"}
    body.update({name: "ok" if ok else "unavailable" for name, ok in checks.items()})
    return JsonResponse(body, status=200 if healthy else 503)


def bad_request(request, exception=None):
    """400: a request Django refused. Too large a form says so in words (a pasted list
    over DATA_UPLOAD_MAX_MEMORY_SIZE, or too many fields) instead of a bare page."""
    too_big = isinstance(exception, RequestDataTooBig | TooManyFieldsSent)
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0
    context = {
        "too_big": too_big,
        "limit": filesizeformat(limit) if limit else "",
        "back": _same_site(request, request.META.get("HTTP_REFERER", "")),
    }
    return render(request, "400.html", context, status=400)


def _same_site(request, url: str) -> str:
    """`url` if it is on this site, else the dashboard. Not safe_next(): reading the
    request's POST again would raise what brought us here."""
    try:
        host = request.get_host()
    except Exception:  # DisallowedHost is one of the 400s this page answers
        return "/"
    if url and url_has_allowed_host_and_scheme(url, allowed_hosts={host}):
        return url
    return "/"
