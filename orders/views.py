from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from brokers import selectors as broker_selectors
from brokers.base import BrokerError
from brokers.models import BrokerAccount
from marketdata.live import Shown
from marketdata.resolution import SymbolNotFound
from sigmatrader.http import AuthedHttpRequest
from sigmatrader.pages import (
    page_or_fragment,
    paginate,
    redirect_back,
    safe_next,
    wants_fragment,
)
from sigmatrader.params import filters, object_id
from sigmatrader.settings_page import render_settings

from . import actions, closed_market_views, conditional, plans, presentation, queue, selectors
from . import bulk as bulk_actions
from .execution import NotExecutable, create_order, execute
from .filters import OrderFilterForm
from .forms import ModifyForm, OrderForm, RiskPolicyForm
from .models import Order, RiskPolicy
from .sync import order_sync_account
from .validation import InvalidOrder


def _actor(request: AuthedHttpRequest) -> str:
    return request.user.get_username()


def _queue_account(request: AuthedHttpRequest) -> BrokerAccount | None:
    """The queue shows one account (the current one) or, with ?scope=all, every account.

    The bulk form names the account it was showing (`queue_account`; not `account`, the
    new order's "Send to"), so the answer stays on it even when the session has since
    viewed another one (another tab).
    """
    if request.GET.get("scope") == "all" or request.POST.get("scope") == "all":
        return None
    shown = object_id(request.POST.get("queue_account"))
    if shown is not None:
        account = broker_selectors.accounts_of(request.user).filter(pk=shown).first()
        if account is not None:
            return account
    return broker_selectors.current_account(request)


def _queue_url(account_id: int | None) -> str:
    url = reverse("orders:queue")
    return f"{url}?account={account_id}" if account_id else url


def _ltp(order: Order) -> Shown | None:
    """The order's price from the live cache (no broker call), for a re-rendered row."""
    return queue.prices_for([order]).get(order.pk)


def _row(order: Order, error: str = "") -> dict:
    return presentation.queue_row(order, error, ltp=_ltp(order))


def _queue_context(
    request: AuthedHttpRequest,
    form: OrderForm | None = None,
    send_to: BrokerAccount | None = None,
) -> dict:
    account = _queue_account(request)
    # The pager links to the queue page itself (this may be the answer to a POST).
    page = selectors.queue_page(user=request.user, account=account, page=request.GET.get("page"))
    prices = queue.prices_for(list(page.object_list))
    elsewhere = []
    if account is not None and not page.object_list:  # empty here: say where orders wait
        elsewhere = selectors.waiting_elsewhere(user=request.user, account=account)
    return {
        "rows": [
            presentation.queue_row(order, ltp=prices.get(order.pk)) for order in page.object_list
        ],
        "page": page,
        "waiting_elsewhere": elsewhere,
        "scope_all": account is None,
        "queue_account": account,
        "form": form
        or OrderForm(
            user=request.user, account=send_to or broker_selectors.current_account(request)
        ),
    }


@require_GET
def queue_page(request: AuthedHttpRequest) -> HttpResponse:
    return page_or_fragment(
        request, "orders/queue.html", "orders/_queue_table.html", _queue_context(request)
    )


@require_GET
def order_form(request: AuthedHttpRequest) -> HttpResponse:
    """Re-render the form for another destination account (its capabilities)."""
    account = broker_selectors.account_for(request.user, request.GET.get("account") or 0)
    form = OrderForm(user=request.user, account=account, initial=request.GET.dict())
    return render(request, "orders/_order_form.html", {"form": form})


@require_POST
def new_order(request: AuthedHttpRequest) -> HttpResponse:
    form = OrderForm(request.POST, user=request.user)
    queued = False
    if form.is_valid():
        account = form.cleaned_data["account"]
        try:
            order = create_order(
                user=request.user,
                account=account,
                symbol=form.cleaned_data["symbol"],
                actor=_actor(request),
                exit_plan=form.exit_plan(),
                **form.order_values(),
            )
        except SymbolNotFound as exc:
            form.add_error("symbol", exc.message)
        except InvalidOrder as exc:
            form.refuse(exc)
        else:
            gtt = form.gtt_values()
            if gtt:
                conditional.make_gtt(order, actor=_actor(request), **gtt)
            messages.success(
                request, f"Order #{order.pk} is in the queue for {account.display_name}."
            )
            queued = True
    if queued and not wants_fragment(request):
        return redirect(safe_next(request) or _queue_url(account.pk))
    status = 200 if queued else 422  # a form not queued has errors to show
    # After an add, a fresh form whose "Send to" keeps the account just used (and the
    # list its tab); else the form with its errors.
    context = _queue_context(request, send_to=account) if queued else _queue_context(request, form)
    return page_or_fragment(
        request, "orders/queue.html", "orders/_queue_body.html", context, status=status
    )


@require_http_methods(["GET", "POST"])
def edit_order(request: AuthedHttpRequest, order_id: int) -> HttpResponse:
    order = selectors.order_for(request.user, order_id)
    if not order.is_editable:
        error = "This order was sent: it can no longer be edited here."
        return render(request, "orders/_queue_row.html", {"row": _row(order, error)})
    initial = {
        "account": order.account_id,
        "symbol": order.symbol,
        "side": order.side,
        "quantity": order.quantity,
        "order_type": order.order_type,
        "product": order.product,
        "price": order.price,
        "trigger_price": order.trigger_price,
        "amo": order.variety == Order.Variety.AMO,
        "validity": order.validity,
        "disclosed_quantity": order.disclosed_quantity or None,
        **plans.stored_texts(order),
    }
    form = OrderForm(
        request.POST if request.method == "POST" else None,
        user=request.user,
        account=order.account,
        initial=initial,
        auto_id=f"edit-{order.pk}-%s",  # unique ids beside the new-order form
    )
    if request.method == "POST" and form.is_valid():
        try:
            order = queue.update_waiting(
                order=order,
                account=form.cleaned_data["account"],
                symbol=form.cleaned_data["symbol"],
                fields=form.order_values(),
                actor=_actor(request),
            )
            plans.replace(entry=order, plan=form.exit_plan(), actor=_actor(request))
        except plans.PlanLocked as exc:
            form.add_error(None, exc.message)
        except SymbolNotFound as exc:
            form.add_error("symbol", exc.message)
        except InvalidOrder as exc:
            form.refuse(exc)
        except ValueError as exc:
            return render(request, "orders/_queue_row.html", {"row": _row(order, str(exc))})
        else:
            return render(request, "orders/_queue_row.html", {"row": _row(order)})
    status = 422 if request.method == "POST" else 200  # still here after a POST: errors
    return render(
        request, "orders/_queue_edit_row.html", {"order": order, "form": form}, status=status
    )


@require_GET
def queue_row(request: AuthedHttpRequest, order_id: int) -> HttpResponse:
    return render(
        request,
        "orders/_queue_row.html",
        {"row": _row(selectors.order_for(request.user, order_id))},
    )


@require_POST
def execute_order(request: AuthedHttpRequest, order_id: int) -> HttpResponse:
    order = selectors.order_for(request.user, order_id)
    choice = closed_market_views.before_execute(request, order)  # closed: AMO / wait / cancel
    if choice is not None:
        return choice
    error = ""
    try:
        order = execute(order=order, actor=_actor(request))
    except NotExecutable as exc:
        error = exc.message
        order.refresh_from_db()
    return _row_or_back(request, order, error)


@require_POST
def cancel_order(request: AuthedHttpRequest, order_id: int) -> HttpResponse:
    order = selectors.order_for(request.user, order_id)
    error = ""
    try:
        order = actions.cancel(order=order, actor=_actor(request))
    except actions.ActionRefused as exc:
        error = exc.message
    return _row_or_back(request, order, error)


def _row_or_back(request: AuthedHttpRequest, order: Order, error: str) -> HttpResponse:
    if wants_fragment(request):
        return render(request, "orders/_queue_row.html", {"row": _row(order, error)})
    if error:
        messages.error(request, error)
    # Back to the queue of the order's account, not whichever the session views now.
    return redirect(safe_next(request) or _queue_url(order.account_id))


@require_POST
def bulk(request: AuthedHttpRequest) -> HttpResponse:
    """Execute or cancel the selected orders (orders/bulk.py), one outcome per order."""
    status = 200
    try:
        result = bulk_actions.run(
            user=request.user,
            action=request.POST.get("action", ""),
            order_ids=request.POST.getlist("orders"),
            actor=_actor(request),
        )
    except bulk_actions.BulkRefused as exc:
        messages.error(request, exc.message)
        status = 422
    else:
        report = messages.success if result.all_good else messages.warning
        report(request, result.summary)
        for outcome in result.outcomes[:50]:
            level = messages.error if outcome.result == bulk_actions.FAILED else messages.info
            level(request, outcome.line)
    if status == 200 and not wants_fragment(request):
        # Back to the view the form was on: all accounts, or the account it named.
        if request.POST.get("scope") == "all":
            return redirect(safe_next(request) or f"{reverse('orders:queue')}?scope=all")
        shown = _queue_account(request) if request.POST.get("queue_account") else None
        return redirect(safe_next(request) or _queue_url(shown.pk if shown else None))
    return page_or_fragment(
        request,
        "orders/queue.html",
        "orders/_queue_body.html",
        _queue_context(request),
        status=status,
    )


@require_GET
def order_preview(request: AuthedHttpRequest, order_id: int) -> HttpResponse:
    order = selectors.order_for(request.user, order_id)
    return render(
        request, "orders/_preview.html", {"order": order, "preview": queue.preview(order)}
    )


# --- Orders page ------------------------------------------------------------------------------

ORDER_FILTERS = ("status", "account", "source")


@require_GET
def order_list(request: AuthedHttpRequest) -> HttpResponse:
    _form, applied = filters(OrderFilterForm, request.GET)
    day = applied.get("date")
    orders = selectors.order_list(
        user=request.user,
        status=applied.get("status", ""),
        account_id=applied.get("account"),
        source=applied.get("source", ""),
        day=day,
    )
    chosen = {name: str(applied.get(name, "")) for name in ORDER_FILTERS}
    page = paginate(request, orders, 50)
    page.object_list = list(page.object_list)
    for order in page.object_list:
        order.cell, order.live = presentation.status_cell(order), presentation.live_state(order)
        order.exits = presentation.exit_cell(order)
    context = {
        "page": page,
        "chosen": chosen,
        "day": day.isoformat() if day else "",
        "statuses": Order.Status.choices,
        "sources": Order.Source.choices,
        "accounts": broker_selectors.accounts_of(request.user),
    }
    return page_or_fragment(request, "orders/orders.html", "orders/_orders_table.html", context)


@require_GET
def order_events(request: AuthedHttpRequest, order_id: int) -> HttpResponse:
    order = selectors.order_for(request.user, order_id)
    return render(
        request, "orders/_order_events.html", {"order": order, "events": order.events.all()}
    )


@require_http_methods(["GET", "POST"])
def modify_order(request: AuthedHttpRequest, order_id: int) -> HttpResponse:
    """The modify form of an order open at the broker (GET), and the modify (POST):
    quantity, type, price and trigger, checked like a new order; errors in place."""
    order = selectors.order_for(request.user, order_id)
    if request.method == "GET" and not wants_fragment(request):
        return redirect("orders:orders")  # the form lives in the Orders page's row, not on its own
    form = ModifyForm(request.POST if request.method == "POST" else None, order=order)
    sent = ""
    if form.is_valid():
        changes = form.changes()
        if not changes:
            form.add_error(None, "Nothing to change: the order already has these values.")
        else:
            try:
                order = actions.modify(order=order, actor=_actor(request), **changes)
            except actions.ActionRefused as exc:
                form.add_error(None, exc.message)
            else:
                sent = f"Order #{order.pk}: modify sent to {order.account_name}."
                form = ModifyForm(order=order)
    status = 422 if form.is_bound and form.errors else 200
    if wants_fragment(request):
        context = {"order": order, "form": form, "sent": sent}
        response = render(request, "orders/_modify_form.html", context, status=status)
        patch_vary_headers(response, ("HX-Request",))
        return response
    if sent:
        messages.success(request, sent)
    for field, errors in form.errors.items():
        where = f"{form[field].label}: " if field in form.fields else ""
        messages.error(request, f"Order #{order.pk}: {where}{' '.join(map(str, errors))}")
    return redirect("orders:orders")


@require_POST
def cancel_live(request: AuthedHttpRequest, order_id: int) -> HttpResponse:
    order = selectors.order_for(request.user, order_id)
    try:
        actions.cancel(order=order, actor=_actor(request))
        messages.success(request, f"Order #{order.pk}: cancel sent to {order.account_name}.")
    except actions.ActionRefused as exc:
        messages.error(request, exc.message)
    return redirect("orders:orders")


@require_POST
def sync_now(request: AuthedHttpRequest, account_id: int) -> HttpResponse:
    account = broker_selectors.account_for(request.user, account_id)
    try:
        result = order_sync_account(account, actor=_actor(request))
    except BrokerError as exc:
        messages.error(request, f"{account.display_name}: {exc.message}")
    else:
        messages.success(
            request,
            f"{account.display_name}: {result.checked} live order(s) checked, "
            f"{result.updated} updated.",
        )
    return redirect_back(request, "orders:orders")


@require_POST
def save_risk_policy(request: AuthedHttpRequest) -> HttpResponse:
    policy = RiskPolicy.objects.filter(
        user=request.user, strategy__isnull=True
    ).first() or RiskPolicy(user=request.user)
    form = RiskPolicyForm(request.POST, instance=policy)
    if form.is_valid():
        form.save()
        messages.success(request, "Risk limits saved; they apply to every order from now on.")
        return redirect("settings")
    # Not saved: the Settings page again, the errors next to the fields that caused them.
    return render_settings(request, status=422, risk_form=form)
