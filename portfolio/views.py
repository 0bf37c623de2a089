import re
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.views import redirect_to_login
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from brokers import selectors as broker_selectors
from marketdata.resolution import SymbolNotFound
from orders.execution import NotExecutable
from orders.models import Order
from orders.validation import InvalidOrder
from sigmatrader import back_links, setup
from sigmatrader.pages import page_or_fragment, wants_fragment
from sigmatrader.params import object_id
from sigmatrader.views import first_run

from . import presentation, selectors, summary, trading
from .dashboard import dashboard_for
from .forms import TradeForm
from .live import overlay_rows
from .models import Position
from .sync import portfolio_sync_account
from .trading import MarketClosed, TradeRefused

PAGES = {"holdings", "positions"}


def _tab(request, source):
    """The chosen tab: one of the user's accounts, or None for "All accounts"."""
    all_accounts = list(broker_selectors.accounts_of(request.user).order_by("-is_default", "label"))
    choice = source.get("account", "")
    if choice == "all" or not all_accounts:
        return None, all_accounts
    chosen = object_id(choice)
    for account in all_accounts:
        if account.pk == chosen:
            return account, all_accounts
    viewed = broker_selectors.current_account(request)  # the session's viewed account, else default
    return next((a for a in all_accounts if viewed and a.pk == viewed.pk), None), all_accounts


SORT_CHOICES = [
    ("symbol", "Symbol"),
    ("-value", "Current value"),
    ("-invested", "Invested"),
    ("-pnl", "P&L, best first"),
    ("pnl", "P&L, worst first"),
    ("-pnl_percent", "P&L %"),
    ("-day_pnl", "Day P&L"),
    ("-quantity", "Quantity"),
]


def _common(request, source, kind: str) -> dict:
    account, all_accounts = _tab(request, source)
    states = selectors.sync_states(all_accounts)
    return {
        "account": account,
        "accounts": all_accounts,
        "sync_rows": [
            (a, states.get(a.pk)) for a in all_accounts if account is None or a.pk == account.pk
        ],
        "sort_choices": SORT_CHOICES,
        "sort": source.get("sort", "symbol"),
        "q": source.get("q", ""),
        "kind": kind,
        "title": f"{kind.title()} — {account.display_name if account else 'All accounts'}",
        # What the page's live poll asks for: the same tab, sort and filter.
        "live_query": urlencode({k: source[k] for k in ("account", "sort", "q") if source.get(k)}),
    }


def _freshest_price(items) -> None:
    """A merged row shows its freshest part's price age."""
    for item in items:
        parts = getattr(item, "parts", None)
        if parts:
            item.shown = max(parts, key=lambda part: part.shown.at or 0).shown


def holdings_context(request, source) -> dict:
    context = _common(request, source, "holdings")
    account = context["account"]
    rows = selectors.rows_for_page(
        selectors.holdings_of(request.user, account), context["accounts"]
    )
    overlay_rows(rows)  # the live cache's prices (never a broker call)
    by_account = {a.pk: [] for a in context["accounts"]}
    for row in rows:
        by_account.setdefault(row.account_id, []).append(row)
    items = summary.merge_holdings(rows) if account is None else rows
    _freshest_price(items)
    items = summary.sort_and_filter(items, sort=context["sort"], query=context["q"])
    presentation.format_holdings(items, merged=account is None)
    context.update(
        items=items,
        merged=account is None,
        trade_url=reverse("portfolio:holdings-trade"),  # once, not per row
        total=summary.totals(items),
        account_totals=[(a, summary.totals(by_account[a.pk])) for a in context["accounts"]],
    )
    return context


def positions_context(request, source) -> dict:
    context = _common(request, source, "positions")
    account = context["account"]
    rows = selectors.rows_for_page(
        selectors.positions_of(request.user, account), context["accounts"]
    )
    overlay_rows(rows)
    items = summary.merge_positions(rows) if account is None else rows
    _freshest_price(items)
    query = context["q"].strip().upper()
    if query:
        items = [item for item in items if query in item.symbol.upper()]
    context.update(items=items, merged=account is None, total=summary.position_totals(rows))
    return context


CONTEXTS = {"holdings": holdings_context, "positions": positions_context}


def _render(request, kind: str, source, status=200):
    context = CONTEXTS[kind](request, source)
    return page_or_fragment(
        request, f"portfolio/{kind}.html", f"portfolio/_{kind}_body.html", context, status=status
    )


@require_GET
def holdings(request):
    return _render(request, "holdings", request.GET)


@require_GET
def positions(request):
    return _render(request, "positions", request.GET)


@require_POST
def refresh(request, account_id):
    """'Refresh from <account>': sync now, then show the page again with the outcome."""
    account = broker_selectors.account_for(request.user, account_id)
    kind = request.POST.get("page", "holdings")
    if kind not in PAGES:
        raise Http404
    result = portfolio_sync_account(account)
    if result.ok:
        messages.success(
            request,
            f"Refreshed from {account.display_name}: {result.holdings} holdings, "
            f"{result.positions} positions.",
        )
    else:
        messages.error(request, f"Could not refresh from {account.display_name}: {result.error}")
    if wants_fragment(request):
        return _render(request, kind, request.POST)
    return redirect(f"{reverse(f'portfolio:{kind}')}?account={account.pk}")


@require_http_methods(["GET", "POST"])
def trade(request):
    """Buy or Sell from a holding: the destination account is explicit."""
    source = request.POST if request.method == "POST" else request.GET
    account = broker_selectors.account_for(request.user, source.get("account") or 0)
    initial = {
        "account": account.pk,
        "symbol": source.get("symbol", ""),
        "side": source.get("side", Order.Side.BUY),
        "quantity": source.get("quantity") or 1,
        "product": Order.Product.CNC,
        "order_type": Order.OrderType.MARKET,
    }
    form = TradeForm(
        request.POST if request.method == "POST" else None,
        user=request.user,
        account=account,
        initial=initial,
    )
    if request.method == "POST" and form.is_valid():
        destination = form.cleaned_data["account"]
        send_now = form.cleaned_data["then"] == TradeForm.SEND
        try:
            order = trading.trade(
                user=request.user,
                account=destination,
                symbol=form.cleaned_data["symbol"],
                values=form.order_values(),
                send_now=send_now,
                actor=request.user.get_username(),
                exit_plan=form.exit_plan(),
            )
        except SymbolNotFound as exc:
            form.add_error("symbol", exc.message)
        except TradeRefused as exc:
            form.add_error(exc.field, exc.message)
        except InvalidOrder as exc:
            form.refuse(exc)
        else:
            return _after_trade(request, order, send_now)
    status = 422 if form.is_bound else 200
    # Opened from a watchlist's row: the title and the back link name it, not Holdings.
    context = {"form": form, "account": account, "came_from": back_links.back_link(request)}
    return render(request, "portfolio/trade.html", context, status=status)


def _after_trade(request, order: Order, sent: bool):
    where = order.account_name
    if not sent:
        messages.success(request, f"Order #{order.pk} is in the queue for {where}.")
        return redirect(f"{reverse('orders:queue')}?account={order.account_id}")
    if order.status in (Order.Status.FAILED, Order.Status.REJECTED):
        messages.error(request, f"Order #{order.pk} to {where}: {order.status_message}")
    else:
        messages.success(request, f"Order #{order.pk} sent to {where}{_how_far(order)}.")
    return redirect("orders:orders")


@require_POST
def square_off(request, position_id):
    key = request.POST.get("position_key", "")[:200]
    position = selectors.position_for(request.user, position_id, key)
    if position is None:
        messages.error(
            request,
            f"{_key_label(key)} is no longer in your positions (they were refreshed since "
            "the page loaded). Nothing was sent.",
        )
        if wants_fragment(request):
            return _render(request, "positions", request.POST)
        return redirect(f"{reverse('portfolio:positions')}?account=all")
    raw = request.POST.get("quantity", "").strip()
    refused = ""
    try:
        # ASCII digits ("2.0" too): int() also reads "١" (Arabic-Indic one), "1_0" (ten).
        if raw and not re.fullmatch(r"-?[0-9]+(\.0+)?", raw):
            raise ValueError(raw)
        quantity = int(raw.split(".")[0]) if raw else None  # blank: the whole position
        order = trading.square_off(
            user=request.user,
            position=position,
            actor=request.user.get_username(),
            quantity=quantity,
            when_closed=request.POST.get("when_closed", ""),
        )
    except MarketClosed as exc:  # the trader chooses: AMO where offered, queue it, or not
        return _render_closed_choice(request, position, exc.closed)
    except ValueError:
        refused = f"Quantity to exit: “{raw[:20]}” is not a whole number."
    except (TradeRefused, NotExecutable, InvalidOrder, SymbolNotFound) as exc:
        refused = exc.message
    else:
        if order.status in (Order.Status.FAILED, Order.Status.REJECTED):
            messages.error(request, f"Square-off order #{order.pk}: {order.status_message}")
        elif order.status == Order.Status.WAITING:
            messages.success(
                request,
                f"Square-off order #{order.pk} for {position.symbol} is waiting in the queue "
                f"for {order.account_name}: execute it there when the market opens.",
            )
        else:
            messages.success(
                request,
                f"Square-off order #{order.pk} for {position.symbol} sent to "
                f"{order.account_name}{_how_far(order)}.",
            )
    if refused and wants_fragment(request):
        # Said at the row's form, with the quantity as typed (a phone had the message a
        # screen above and the field reset to the whole position).
        context = CONTEXTS["positions"](request, request.POST)
        context["exit_refused"] = {"key": position.key, "quantity": raw[:12], "message": refused}
        return render(request, "portfolio/_positions_body.html", context, status=422)
    if refused:
        messages.error(request, refused)
    if wants_fragment(request):
        return _render(request, "positions", request.POST)
    return redirect(f"{reverse('portfolio:positions')}?account={position.account_id}")


def _how_far(order: Order) -> str:
    """ ": executed" after "sent to …", or nothing when the status is only "sent"."""
    if order.status == Order.Status.SENT:
        return ""
    return f": {order.get_status_display().lower()}"


def _key_label(key: str) -> str:
    """ "12|NSE|SBIN|MIS" -> "SBIN MIS" (what the trader saw on the row)."""
    parts = Position.parse_key(key) or {"symbol": "", "product": ""}
    return f"{parts['symbol']} {parts['product']}".strip()[:80] or "That position"


def _render_closed_choice(request, position, closed):
    context = CONTEXTS["positions"](request, request.POST)
    context["closed_choice"] = {
        "position": position,
        "closed": closed,
        "quantity": request.POST.get("quantity", "").strip()[:12],  # a partial exit, kept
    }
    template = "portfolio/_positions_body.html" if request.htmx else "portfolio/positions.html"
    return render(request, template, context)


@require_GET
def history(request):
    """Daily snapshots: one account's, or every account's."""
    choice = request.GET.get("account", "all")
    snapshots = selectors.snapshots_of(request.user)
    account = None
    if choice != "all":
        account = broker_selectors.account_for(request.user, choice)
        snapshots = snapshots.filter(account=account)
    context = {
        "account": account,
        "snapshots": snapshots[:400],
        "title": f"Holdings history — {account.display_name if account else 'All accounts'}",
    }
    return render(request, "portfolio/history.html", context)


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
    return render(request, "sigmatrader/dashboard.html", {"board": dashboard_for(request.user)})
