import re

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from brokers import registry
from brokers import selectors as broker_selectors
from sigmatrader import params

from . import readiness
from .presentation import instruments_status
from .quotes import cached_ltp
from .search import search_instruments

LIST_ID = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,60}")


@require_GET
def search(request):
    """HTMX autocomplete: instruments of the current account's broker."""
    return search_results(request, account=broker_selectors.current_account(request))


def search_results(request, *, account):
    """The autocomplete's results among `account`'s broker's instruments (a form that
    names its own account, e.g. an alert's order account, passes that one)."""
    query = params.text(request.GET.get("q") or request.GET.get("symbol"), 40)
    # Order forms ask for what can be traded: no indices (the form would refuse them).
    tradable = request.GET.get("tradable") == "1"
    results = (
        search_instruments(broker=account.broker, query=query, tradable_only=tradable)
        if account
        else []
    )
    prices = cached_ltp(results)  # only what the quote cache holds: no broker call per key
    for instrument in results:
        instrument.ltp = prices.get(instrument.pk)
    # The listbox's id: one form's list is not another's (the inline edit row has its own).
    list_id = request.GET.get("list", "")
    if not LIST_ID.fullmatch(list_id):
        list_id = "instrument-results"
    return render(
        request,
        "marketdata/_search_results.html",
        {"results": results, "query": query, "account": account, "list_id": list_id},
    )


@require_GET
def instruments_card(request):
    """Settings' Instruments lists (a fragment); it polls itself while one is loading."""
    return _lists(request)


def _lists(request):
    return render(
        request, "marketdata/_instruments_list.html", {"instruments": instruments_status()}
    )


@require_POST
def refresh_now(request, broker):
    if not request.user.is_staff:
        raise Http404  # one master serves every user: operators refresh it
    try:
        label = registry.get_adapter_class(broker).label
    except registry.UnknownBroker:
        raise Http404 from None
    if readiness.queue_refresh(broker):
        messages.info(request, f"{label} instruments refresh started; this card shows the result.")
    else:
        messages.info(request, f"{label} instruments are already loading.")
    if request.htmx:
        return _lists(request)
    return redirect("settings")
