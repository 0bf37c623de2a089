"""The Alerts pages: rules, the rule form with its "would fire now?" test, each
rule's events, the in-app notifications, the screener."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from brokers import selectors as broker_selectors
from marketdata.views import search_results
from sigmatrader.http import AuthedHttpRequest
from sigmatrader.pages import page_or_fragment, paginate
from sigmatrader.params import object_id, text
from watchlists import services as watchlist_services

from . import engine, screener, selectors, services
from .forms import AlertRuleForm, ScreenerForm, initial_for
from .models import AlertRule

RESULTS_SORTS = ("symbol", "account")


@require_GET
def rule_list(request: AuthedHttpRequest) -> HttpResponse:
    rules = list(selectors.rules_of(user=request.user))
    notifications = list(selectors.events_of(user=request.user)[:10])
    context = {
        "rules": rules,
        "notifications": notifications,
        "unseen": selectors.unseen_count(user=request.user),
    }
    return page_or_fragment(request, "alerts/list.html", "alerts/_rules.html", context)


@require_http_methods(["GET", "POST"])
def rule_new(request: AuthedHttpRequest) -> HttpResponse:
    return _rule_form(request, None)


@require_http_methods(["GET", "POST"])
def rule_edit(request: AuthedHttpRequest, rule_id: int) -> HttpResponse:
    return _rule_form(request, selectors.rule_for(user=request.user, rule_id=rule_id))


def _rule_form(request: AuthedHttpRequest, rule: AlertRule | None) -> HttpResponse:
    if request.method == "POST":
        form = AlertRuleForm(request.POST, user=request.user)
        if rule is None and selectors.rules_of(user=request.user).count() >= (
            settings.ALERTS_MAX_RULES_PER_USER
        ):
            form.add_error(
                None,
                f"You have {settings.ALERTS_MAX_RULES_PER_USER} alerts, the most one user may "
                "keep: delete some first.",
            )
        if form.is_valid():
            saved = services.save_rule(user=request.user, fields=form.rule_fields(), rule=rule)
            messages.success(request, f"Alert “{saved.name}” saved.")
            return redirect("alerts:list")
        status = 422
    else:
        initial = initial_for(rule) if rule else {"name": "", "enabled": True}
        form = AlertRuleForm(initial=initial, user=request.user)
        status = 200
    context = {"form": form, "rule": rule}
    return render(request, "alerts/form.html", context, status=status)


@require_POST
def rule_test(request: AuthedHttpRequest) -> HttpResponse:
    """ "Would fire now?": the form's rule, unsaved, against current data."""
    form = AlertRuleForm(request.POST, user=request.user)
    result = None
    if form.is_valid():
        fields = form.rule_fields()
        rule = AlertRule(user=request.user, **fields)
        result = engine.preview(rule)
    return render(request, "alerts/_test.html", {"form": form, "result": result})


@require_GET
def symbol_search(request: AuthedHttpRequest) -> HttpResponse:
    """The form's instrument search, among the chosen order account's instruments (the
    session's current account when none is chosen yet)."""
    chosen = object_id(request.GET.get("action_account"))
    account = None
    if chosen is not None:
        account = broker_selectors.accounts_of(request.user).filter(pk=chosen).first()
    return search_results(request, account=account or broker_selectors.current_account(request))


@require_POST
def rule_toggle(request: AuthedHttpRequest, rule_id: int) -> HttpResponse:
    rule = selectors.rule_for(user=request.user, rule_id=rule_id)
    try:
        services.set_enabled(rule=rule, enabled=not rule.enabled)
    except services.CannotEnable as exc:
        messages.error(request, str(exc))
    return _rules_fragment(request)


@require_POST
def rule_delete(request: AuthedHttpRequest, rule_id: int) -> HttpResponse:
    rule = selectors.rule_for(user=request.user, rule_id=rule_id)
    services.delete_rule(rule=rule)
    messages.info(request, f"Alert “{rule.name}” deleted.")
    return _rules_fragment(request)


def _rules_fragment(request: AuthedHttpRequest) -> HttpResponse:
    if request.htmx:
        context = {"rules": list(selectors.rules_of(user=request.user))}
        return render(request, "alerts/_rules.html", context)
    return redirect("alerts:list")


@require_GET
def rule_events(request: AuthedHttpRequest, rule_id: int) -> HttpResponse:
    rule = selectors.rule_for(user=request.user, rule_id=rule_id)
    page = paginate(request, selectors.events_of(user=request.user, rule=rule), 50)
    context = {"rule": rule, "page": page}
    return page_or_fragment(request, "alerts/events.html", "alerts/_events.html", context)


@require_POST
def notifications_read(request: AuthedHttpRequest) -> HttpResponse:
    services.mark_seen(user=request.user)
    if request.htmx:
        context = {"notifications": list(selectors.events_of(user=request.user)[:10]), "unseen": 0}
        return render(request, "alerts/_notifications.html", context)
    return redirect("alerts:list")


# --- Screener ---------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def screener_page(request: AuthedHttpRequest) -> HttpResponse:
    status = 200
    if request.method == "POST":
        form = ScreenerForm(request.POST, user=request.user)
        if form.is_valid():
            data = form.cleaned_data
            try:
                run = screener.start(
                    user=request.user,
                    universe=data["universe"],
                    expression=data["expression"],
                    account=data.get("account"),
                    segment=data.get("segment") or "",
                    watchlist_ids=data.get("watchlist_ids") or (),
                )
            except screener.ScreenerError as exc:
                where = f" (column {exc.column})" if exc.column else ""
                form.add_error("expression" if exc.column else None, f"{exc.message}{where}")
            else:
                return redirect("alerts:screener-run", run_id=run.pk)
        status = 422
    else:
        form = ScreenerForm(user=request.user, initial=_screener_initial(request))
    runs = list(selectors.runs_of(user=request.user)[:10])
    return render(request, "alerts/screener.html", {"form": form, "runs": runs}, status=status)


def _screener_initial(request: AuthedHttpRequest) -> dict:
    return {"expression": request.GET.get("expression", "")[:1000]}


@require_GET
def screener_run(request: AuthedHttpRequest, run_id: int) -> HttpResponse:
    run = selectors.run_for(user=request.user, run_id=run_id)
    sort = request.GET.get("sort", "symbol")
    rows = _sorted(_rows(run.results), sort)
    columns = sorted({key for row in rows for key in row["values"]})
    context = {"run": run, "rows": rows, "columns": columns, "sort": sort}
    if run.status == run.Status.DONE and not run.total:
        context["empty_reason"] = screener.empty_reason(run)
    return page_or_fragment(
        request, "alerts/screener_run.html", "alerts/_screener_run.html", context
    )


def _rows(results) -> list[dict]:
    """The stored results as rows, whatever shape a JSON column holds."""
    rows = []
    for row in results if isinstance(results, list) else []:
        if isinstance(row, dict) and row.get("symbol"):
            values = row.get("values")
            rows.append({**row, "values": values if isinstance(values, dict) else {}})
    return rows


def _sorted(rows: list, sort: str) -> list:
    descending = sort.startswith("-")
    key = sort.lstrip("-")
    if key in RESULTS_SORTS:
        return sorted(rows, key=lambda r: str(r.get(key) or ""), reverse=descending)
    # A value column: numbers first in order, rows without the value last.
    with_value = [r for r in rows if isinstance(r["values"].get(key), int | float)]
    without = [r for r in rows if r not in with_value]
    with_value.sort(key=lambda r: r["values"][key], reverse=descending)
    return with_value + without


@require_POST
def screener_rerun(request: AuthedHttpRequest, run_id: int) -> HttpResponse:
    run = selectors.run_for(user=request.user, run_id=run_id)
    try:
        again = screener.rerun(run)
    except screener.ScreenerError as exc:
        messages.error(request, exc.message)
        return redirect("alerts:screener-run", run_id=run.pk)
    return redirect("alerts:screener-run", run_id=again.pk)


@require_POST
def screener_fetch(request: AuthedHttpRequest, run_id: int) -> HttpResponse:
    """Fetch the daily candles the run's symbols lack (a background task)."""
    run = selectors.run_for(user=request.user, run_id=run_id)
    if not screener.start_fetch(run):
        messages.info(request, "A fetch is already running, or no symbol lacks candles.")
    return redirect("alerts:screener-run", run_id=run.pk)


@require_POST
def screener_save(request: AuthedHttpRequest, run_id: int) -> HttpResponse:
    """The run's matches as a new watchlist (named by the trader)."""
    run = selectors.run_for(user=request.user, run_id=run_id)
    symbols = [
        tuple(row["symbol"].split(":", 1)) for row in _rows(run.results) if ":" in row["symbol"]
    ]
    shown = timezone.localtime(run.created_at)  # IST, as every page shows times
    name = text(request.POST.get("name"), 80) or f"Screener {shown:%d %b %H:%M}"
    try:
        watchlist = watchlist_services.create_list_of_symbols(
            user=request.user, name=name, symbols=symbols
        )
    except watchlist_services.Refused as exc:
        messages.error(request, str(exc))
        return redirect("alerts:screener-run", run_id=run.pk)
    messages.success(request, f"Saved {len(symbols)} match(es) as the watchlist {watchlist.name}.")
    return redirect("watchlists:detail", watchlist_id=watchlist.pk)
