from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from brokers import selectors
from brokers.base import BrokerError
from marketdata.resolution import SymbolNotFound
from sigmatrader.pages import page_or_fragment, redirect_back

from . import actions, conditional, presentation, queue
from .execution import NotExecutable, create_order, execute
from .forms import OrderForm, RiskPolicyForm
from .models import Order, RiskPolicy
from .sync import sync_account


def _actor(request) -> str:
    return request.user.get_username()


def _queue_account(request):
    """The queue shows one account (the current one) or, with ?scope=all, every account."""
    if request.GET.get("scope") == "all" or request.POST.get("scope") == "all":
        return None
    return selectors.current_account(request)


def _ltp(order):
    """The order's price from the live cache (no broker call), for a re-rendered row."""
    return queue.prices_for([order]).get(order.pk)


def _row(order, error=""):
    return presentation.queue_row(order, error, ltp=_ltp(order))


def _queue_context(request, form=None):
    account = _queue_account(request)
    page = Paginator(queue.queue_of(request.user, account), settings.QUEUE_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    orders = list(page.object_list)
    prices = queue.prices_for(orders)
    return {
        "rows": [presentation.queue_row(order, ltp=prices.get(order.pk)) for order in orders],
        "page": page,
        "scope_all": account is None,
        "queue_account": account,
        "form": form or OrderForm(user=request.user, account=selectors.current_account(request)),
    }


@require_GET
def queue_page(request):
    return page_or_fragment(
        request, "orders/queue.html", "orders/_queue_table.html", _queue_context(request)
    )


@require_GET
def order_form(request):
    """Re-render the form for another destination account (its capabilities)."""
    account = selectors.account_for(request.user, request.GET.get("account") or 0)
    form = OrderForm(user=request.user, account=account, initial=request.GET.dict())
    return render(request, "orders/_order_form.html", {"form": form})


@require_POST
def new_order(request):
    form = OrderForm(request.POST, user=request.user)
    if form.is_valid():
        account = form.cleaned_data["account"]
        try:
            order = create_order(
                user=request.user,
                account=account,
                symbol=form.cleaned_data["symbol"],
                actor=_actor(request),
                **form.order_values(),
            )
        except SymbolNotFound as exc:
            form.add_error("symbol", exc.message)
        else:
            gtt = form.gtt_values()
            if gtt:
                conditional.make_gtt(order, actor=_actor(request), **gtt)
            messages.success(
                request, f"Order #{order.pk} is in the queue for {account.display_name}."
            )
            form = None
    context = _queue_context(request, form)
    status = 200 if form is None or form.is_valid() else 422
    if request.htmx:
        return render(request, "orders/_queue_body.html", context, status=status)
    if form is None:
        return redirect("queue")
    return render(request, "orders/queue.html", context, status=status)


@require_http_methods(["GET", "POST"])
def edit_order(request, order_id):
    order = queue.order_for(request.user, order_id)
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
        except SymbolNotFound as exc:
            form.add_error("symbol", exc.message)
        except ValueError as exc:
            return render(request, "orders/_queue_row.html", {"row": _row(order, str(exc))})
        else:
            return render(request, "orders/_queue_row.html", {"row": _row(order)})
    return render(request, "orders/_queue_edit_row.html", {"order": order, "form": form})


@require_GET
def queue_row(request, order_id):
    return render(
        request,
        "orders/_queue_row.html",
        {"row": _row(queue.order_for(request.user, order_id))},
    )


@require_POST
def execute_order(request, order_id):
    order = queue.order_for(request.user, order_id)
    error = ""
    try:
        order = execute(order=order, actor=_actor(request))
    except NotExecutable as exc:
        error = exc.message
        order.refresh_from_db()
    return _row_or_back(request, order, error)


@require_POST
def cancel_order(request, order_id):
    order = queue.order_for(request.user, order_id)
    error = ""
    try:
        order = actions.cancel(order=order, actor=_actor(request))
    except actions.ActionRefused as exc:
        error = exc.message
    return _row_or_back(request, order, error)


def _row_or_back(request, order, error):
    if request.htmx:
        return render(request, "orders/_queue_row.html", {"row": _row(order, error)})
    if error:
        messages.error(request, error)
    return redirect_back(request, "queue")


@require_POST
def bulk(request):
    """Execute or cancel the selected orders, one by one (each exactly once)."""
    action = request.POST.get("action")
    done, refused = 0, []
    for order_id in request.POST.getlist("orders")[:200]:
        order = queue.order_for(request.user, order_id)
        try:
            if action == "execute":
                order = execute(order=order, actor=_actor(request))
            elif action == "cancel":
                actions.cancel(order=order, actor=_actor(request))
            else:
                break
            done += 1
        except (NotExecutable, actions.ActionRefused) as exc:
            refused.append(exc.message)
    verb = "executed" if action == "execute" else "cancelled"
    messages.info(
        request, f"{done} order(s) {verb}." + (f" {len(refused)} refused." if refused else "")
    )
    for message in refused[:5]:
        messages.warning(request, message)
    if request.htmx:
        return render(request, "orders/_queue_body.html", _queue_context(request))
    return redirect("queue")


@require_GET
def order_preview(request, order_id):
    order = queue.order_for(request.user, order_id)
    return render(
        request, "orders/_preview.html", {"order": order, "preview": queue.preview(order)}
    )


# --- Orders page ------------------------------------------------------------------------------

ORDER_FILTERS = ("status", "account", "source")


@require_GET
def order_list(request):
    orders = (
        Order.objects.filter(user=request.user)
        .select_related("account")
        .order_by("-created_at", "-id")
    )
    chosen = {name: request.GET.get(name, "") for name in ORDER_FILTERS}
    if chosen["status"] in Order.Status.values:
        orders = orders.filter(status=chosen["status"])
    if chosen["account"].isdigit():
        orders = orders.filter(account_id=int(chosen["account"]))
    if chosen["source"] in Order.Source.values:
        orders = orders.filter(source=chosen["source"])
    day = request.GET.get("date", "")
    if day:
        orders = orders.filter(created_at__date=day)
    page = Paginator(orders, 50).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    for order in page.object_list:
        order.cell, order.live = presentation.status_cell(order), presentation.live_state(order)
    context = {
        "page": page,
        "chosen": chosen,
        "day": day,
        "statuses": Order.Status.choices,
        "sources": Order.Source.choices,
        "accounts": selectors.accounts_of(request.user),
    }
    return page_or_fragment(request, "orders/orders.html", "orders/_orders_table.html", context)


@require_GET
def order_events(request, order_id):
    order = queue.order_for(request.user, order_id)
    return render(
        request, "orders/_order_events.html", {"order": order, "events": order.events.all()}
    )


@require_POST
def modify_order(request, order_id):
    order = queue.order_for(request.user, order_id)
    try:
        actions.modify(
            order=order,
            actor=_actor(request),
            quantity=int(request.POST["quantity"]) if request.POST.get("quantity") else None,
            price=request.POST.get("price") or None,
        )
        messages.success(request, f"Order #{order.pk}: modify sent to {order.account_name}.")
    except (actions.ActionRefused, ValueError) as exc:
        messages.error(request, getattr(exc, "message", str(exc)))
    return redirect("orders")


@require_POST
def cancel_live(request, order_id):
    order = queue.order_for(request.user, order_id)
    try:
        actions.cancel(order=order, actor=_actor(request))
        messages.success(request, f"Order #{order.pk}: cancel sent to {order.account_name}.")
    except actions.ActionRefused as exc:
        messages.error(request, exc.message)
    return redirect("orders")


@require_POST
def sync_now(request, account_id):
    account = selectors.account_for(request.user, account_id)
    try:
        result = sync_account(account, actor=_actor(request))
    except BrokerError as exc:
        messages.error(request, f"{account.display_name}: {exc.message}")
    else:
        messages.success(
            request,
            f"{account.display_name}: {result.checked} live order(s) checked, "
            f"{result.updated} updated.",
        )
    return redirect_back(request, "orders")


@require_POST
def save_risk_policy(request):
    policy = RiskPolicy.objects.filter(
        user=request.user, strategy__isnull=True
    ).first() or RiskPolicy(user=request.user)
    form = RiskPolicyForm(request.POST, instance=policy)
    if form.is_valid():
        form.save()
        messages.success(request, "Risk limits saved; they apply to every order from now on.")
    else:
        messages.error(
            request,
            "Risk limits not saved: "
            + "; ".join(
                f"{form.fields[name].label}: {' '.join(errors)}"
                for name, errors in form.errors.items()
            ),
        )
    return redirect("settings")
