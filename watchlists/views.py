"""Watchlist and basket pages: thin views over selectors, services and importing."""

from __future__ import annotations

import uuid
from decimal import Decimal
from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from brokers import selectors as broker_selectors
from marketdata import live
from sigmatrader.formatting import counted
from sigmatrader.http import AuthedHttpRequest
from sigmatrader.pages import page_or_fragment, paginate, wants_fragment
from sigmatrader.params import object_id, text

from . import confirmations, importing, presentation, selectors, services
from .forms import BasketOrderForm, EditListForm, ImportForm, ListForm, MappingForm, MemberForm
from .models import Watchlist

MOVES = ("up", "down", "top", "bottom")


# --- The lists ----------------------------------------------------------------------


def _index(request: AuthedHttpRequest, form: ListForm | None = None, status: int = 200):
    kind = request.GET.get("kind", "")
    if kind not in Watchlist.Kind.values:
        kind = ""
    page = paginate(request, selectors.lists_of(request.user, kind=kind or None), 50)
    context = {
        "page": page,
        "form": form or ListForm(),
        "kind": kind,
        "kinds": Watchlist.Kind.choices,
    }
    return page_or_fragment(
        request, "watchlists/index.html", "watchlists/_index_body.html", context, status=status
    )


@require_GET
def index(request: AuthedHttpRequest) -> HttpResponse:
    return _index(request)


@require_POST
def create(request: AuthedHttpRequest) -> HttpResponse:
    form = ListForm(request.POST)
    if form.is_valid():
        try:
            watchlist = services.create_list(user=request.user, **form.cleaned_data)
        except services.Refused as exc:
            form.add_error("name", exc.message)
        else:
            messages.success(request, f"{watchlist.get_kind_display()} {watchlist.name} created.")
            return _go(request, watchlist)
    return _index(request, form, status=422)


def _go(request: AuthedHttpRequest, watchlist: Watchlist) -> HttpResponse:
    url = reverse("watchlists:detail", args=[watchlist.pk])
    if wants_fragment(request):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


# --- One list -----------------------------------------------------------------------


def _account(request: AuthedHttpRequest, source):
    """The account whose broker prices the list: ?account= among the user's, else the
    viewed one. Returns (account or None, all accounts)."""
    accounts = list(broker_selectors.accounts_of(request.user).order_by("-is_default", "label"))
    chosen = object_id(source.get("account"))
    for account in accounts:
        if account.pk == chosen:
            return account, accounts
    viewed = broker_selectors.current_account(request)
    return next((a for a in accounts if viewed and a.pk == viewed.pk), None) or (
        accounts[0] if accounts else None
    ), accounts


def _here(watchlist: Watchlist, account) -> str:
    url = reverse("watchlists:detail", args=[watchlist.pk])
    return f"{url}?account={account.pk}" if account else url


def detail_context(
    request: AuthedHttpRequest, watchlist: Watchlist, source, *, poll: bool = False, **extra
) -> dict:
    account, accounts = _account(request, source)
    sort = source.get("sort", "")
    if sort not in presentation.SORT_VALUES:
        sort = ""
    members = selectors.members_of(watchlist)
    rows = presentation.live_rows(members, account)
    if account is not None:
        live.note_viewed(account, [r.instrument for r in rows if r.instrument is not None])
    context = {
        "watchlist": watchlist,
        "rows": presentation.sort_rows(rows, sort),
        "account": account,
        "accounts": accounts,
        "sort": sort,
        "sorts": presentation.SORTS,
        "unresolved": sum(1 for r in rows if r.instrument is None),
        "unloaded": next((r.problem for r in rows if r.unloaded), ""),
        "edit_form": EditListForm(
            initial={"name": watchlist.name, "description": watchlist.description},
            auto_id="edit-%s",
        ),
        "trade_url": reverse("portfolio:holdings-trade"),  # once, not per row
        # The order form names this list and leads back to it (sigmatrader.back_links).
        "trade_next": urlencode({"next": _here(watchlist, account)}),
        "members_url": reverse("watchlists:detail", args=[watchlist.pk]) + "members/",
        "live_query": f"account={account.pk}" if account else "",
        "limit": services.MAX_MEMBERS,
    }
    if watchlist.is_basket and not poll:
        context.update(basket_context(request, watchlist, account, extra.pop("form", None)))
    context.update(extra)
    return context


def _detail(
    request: AuthedHttpRequest,
    watchlist: Watchlist,
    *,
    status: int = 200,
    fragment: str = "watchlists/_detail_body.html",
    **extra,
) -> HttpResponse:
    """The list's page; over HTMX, `fragment` (the list's body, or the basket card)."""
    source = request.POST if request.method == "POST" else request.GET
    context = detail_context(request, watchlist, source, **extra)
    return page_or_fragment(request, "watchlists/detail.html", fragment, context, status=status)


@require_GET
def detail(request: AuthedHttpRequest, watchlist_id: int) -> HttpResponse:
    return _detail(request, selectors.watchlist_for(request.user, watchlist_id))


@require_GET
def live_watchlist(request: AuthedHttpRequest, watchlist_id: int) -> HttpResponse:
    """The poll (static/js/live.js): prices from the cache, out of band; never a broker."""
    watchlist = selectors.watchlist_for(request.user, watchlist_id)
    context = detail_context(request, watchlist, request.GET, poll=True)
    return render(request, "watchlists/_detail_poll.html", context)


@require_POST
def edit(request: AuthedHttpRequest, watchlist_id: int) -> HttpResponse:
    watchlist = selectors.watchlist_for(request.user, watchlist_id)
    form = EditListForm(request.POST, auto_id="edit-%s")
    if form.is_valid():
        try:
            services.update_list(watchlist=watchlist, **form.cleaned_data)
        except services.Refused as exc:
            form.add_error("name", exc.message)
        else:
            messages.success(request, f"Saved {watchlist.name}.")
            return _detail(request, watchlist)
    watchlist.refresh_from_db()
    return _detail(request, watchlist, status=422, edit_form=form, edit_open=True)


@require_POST
def delete(request: AuthedHttpRequest, watchlist_id: int) -> HttpResponse:
    watchlist = selectors.watchlist_for(request.user, watchlist_id)
    name = watchlist.name
    services.delete_list(watchlist=watchlist)
    messages.success(request, f"Deleted {name}.")
    url = reverse("watchlists:index")
    if wants_fragment(request):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


@require_POST
def duplicate(request: AuthedHttpRequest, watchlist_id: int) -> HttpResponse:
    watchlist = selectors.watchlist_for(request.user, watchlist_id)
    try:
        copy = services.duplicate_list(watchlist=watchlist)
    except services.Refused as exc:
        messages.error(request, exc.message)
        return _detail(request, watchlist, status=422)
    messages.success(request, f"Copied {watchlist.name} to {copy.name}.")
    return _go(request, copy)


# --- Members ------------------------------------------------------------------------


@require_POST
def add_member(request: AuthedHttpRequest, watchlist_id: int) -> HttpResponse:
    watchlist = selectors.watchlist_for(request.user, watchlist_id)
    account, _ = _account(request, request.POST)
    symbol = text(request.POST.get("symbol"), 80)
    try:
        member = services.add_member(
            watchlist=watchlist,
            symbol=symbol,
            broker=account.broker if account else None,
            note=text(request.POST.get("note"), 200),
        )
    except services.Refused as exc:
        return _detail(request, watchlist, status=422, add_error=exc.message, add_value=symbol)
    messages.success(request, f"Added {member.label}.")
    return _detail(request, watchlist)


@require_POST
def remove_member(request: AuthedHttpRequest, watchlist_id: int, member_id: int) -> HttpResponse:
    watchlist = selectors.watchlist_for(request.user, watchlist_id)
    member = selectors.member_for(request.user, watchlist, member_id)
    services.remove_member(member=member)
    messages.info(request, f"Removed {member.label}.")
    return _after(request, watchlist)


@require_POST
def move_member(request: AuthedHttpRequest, watchlist_id: int, member_id: int) -> HttpResponse:
    watchlist = selectors.watchlist_for(request.user, watchlist_id)
    member = selectors.member_for(request.user, watchlist, member_id)
    to = request.POST.get("to", "")
    if to not in MOVES:
        messages.error(request, "Move up, down, to the top or to the bottom.")
        return _detail(request, watchlist, status=422)
    if request.POST.get("sort") in presentation.SORT_VALUES - {""}:
        messages.error(request, "The list is sorted: set Sort to “List order” to move symbols.")
        return _detail(request, watchlist, status=422)
    services.move_member(member=member, to=to)
    return _after(request, watchlist)


@require_POST
def edit_member(request: AuthedHttpRequest, watchlist_id: int, member_id: int) -> HttpResponse:
    watchlist = selectors.watchlist_for(request.user, watchlist_id)
    member = selectors.member_for(request.user, watchlist, member_id)
    form = MemberForm(request.POST, prefix=f"m{member.pk}")
    if not form.is_valid():
        errors = "; ".join(
            f"{form.fields[name].label or name}: {' '.join(errs)}"
            for name, errs in form.errors.items()
            if name in form.fields
        )
        messages.error(request, f"{member.label} not saved: {errors}")
        prefix = f"m{member.pk}"
        # The row shows its own errors beside its inputs, with what was typed kept.
        member_edit = {
            "pk": member.pk,
            "values": {name: request.POST.get(f"{prefix}-{name}", "") for name in form.fields},
            "errors": {
                name: f"{form.fields[name].label}: {' '.join(errs)}"
                for name, errs in form.errors.items()
                if name in form.fields
            },
        }
        return _detail(request, watchlist, status=422, member_edit=member_edit)
    # Only what was sent changes (an unticked box is not sent: the inline form says it
    # carries every field with its marker).
    prefix = f"m{member.pk}"
    sent = {name for name in form.fields if f"{prefix}-{name}" in request.POST}
    if request.POST.get(f"{prefix}-all"):
        sent = set(form.fields)
    for name in sent:
        setattr(member, name, form.cleaned_data[name])
    member.save()
    messages.success(request, f"Saved {member.label}.")
    return _after(request, watchlist)


def _after(request: AuthedHttpRequest, watchlist: Watchlist) -> HttpResponse:
    """Show the list again; a plain form post goes back to the page (no resubmission)."""
    if wants_fragment(request):
        return _detail(request, watchlist)
    url = reverse("watchlists:detail", args=[watchlist.pk])
    query = {"account": object_id(request.POST.get("account"))}
    sort = request.POST.get("sort", "")
    if sort in presentation.SORT_VALUES - {""}:
        query["sort"] = sort  # the sort the page had stays
    query = {k: v for k, v in query.items() if v}
    return redirect(f"{url}?{urlencode(query)}" if query else url)


# --- Export -------------------------------------------------------------------------


@require_GET
def export(request: AuthedHttpRequest, watchlist_id: int, fmt: str) -> HttpResponse:
    watchlist = selectors.watchlist_for(request.user, watchlist_id)
    members = selectors.members_of(watchlist)
    if fmt == "csv":
        body, kind, ext = importing.export_csv(members), "text/csv", "csv"
    else:
        body, kind, ext = importing.export_tradingview(members), "text/plain", "txt"
    response = HttpResponse(body, content_type=f"{kind}; charset=utf-8")
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in watchlist.name)[:60] or "list"
    response["Content-Disposition"] = f'attachment; filename="{safe}.{ext}"'
    return response


# --- Import -------------------------------------------------------------------------


def _import_form(request: AuthedHttpRequest, data=None, files=None) -> ImportForm:
    accounts = list(broker_selectors.accounts_of(request.user).order_by("-is_default", "label"))
    lists = list(Watchlist.objects.filter(user=request.user).order_by("name"))
    initial = {}
    into = object_id(request.GET.get("into"))
    if into and any(w.pk == into for w in lists):
        initial["into"] = into
    viewed = broker_selectors.current_account(request)
    if viewed:
        initial["account"] = viewed.pk
    return ImportForm(
        data, files, user=request.user, accounts=accounts, lists=lists, initial=initial
    )


def _render_import(request: AuthedHttpRequest, context: dict, status: int = 200) -> HttpResponse:
    return render(request, "watchlists/import.html", context, status=status)


@require_http_methods(["GET", "POST"])
def import_list(request: AuthedHttpRequest) -> HttpResponse:
    """Read → preview (with the CSV's column mapping) → confirm. Nothing is saved
    before the confirm, and the confirm saves in one transaction."""
    if request.method == "GET":
        form = _import_form(request)
        return _render_import(
            request, {"form": form, "has_accounts": bool(form.fields["account"].choices)}
        )
    form = _import_form(request, request.POST, request.FILES)
    if not form.fields["account"].choices:
        messages.error(
            request, "Add a broker account first: symbols are checked against its instruments."
        )
        return _render_import(request, {"form": form, "has_accounts": False}, status=422)
    if not form.is_valid():
        return _render_import(request, {"form": form, "has_accounts": True}, status=422)
    try:
        raw = _read_upload(form)
    except importing.ImportRefused as exc:
        form.add_error("file" if form.cleaned_data.get("file") else "text", exc.message)
        return _render_import(request, {"form": form, "has_accounts": True}, status=422)
    data = form.cleaned_data
    account = broker_selectors.account_for(request.user, data["account"])
    fmt = data["format"]
    if fmt == "auto":
        fmt = "csv" if importing.looks_like_csv(raw) else "tradingview"
    context = {"form": form, "has_accounts": True, "raw": raw, "fmt": fmt, "account": account}
    try:
        if fmt == "csv":
            header, sample = importing.csv_header(raw)
            mapping_data = (
                request.POST if request.POST.get("step") in ("preview", "confirm") else None
            )
            mapping_form = MappingForm(
                mapping_data,
                header=header,
                initial={f"map_{k}": v for k, v in importing.guess_mapping(header).items()},
            )
            context.update(mapping_form=mapping_form, header=header, sample=sample)
            if mapping_data is None:  # first look: the guessed columns, shown to change
                mapping = importing.guess_mapping(header)
            elif mapping_form.is_valid():
                mapping = mapping_form.mapping()
            else:
                return _render_import(request, context, status=422)
            if "symbol" not in mapping:
                context["notice"] = "Choose the column that holds the symbol."
                return _render_import(request, context, status=422)
            rows = importing.parse_csv(raw, mapping)
        else:
            rows = importing.parse_tradingview(raw)
    except importing.ImportRefused as exc:
        form.add_error(None, exc.message)
        return _render_import(request, context, status=422)
    if not rows:
        form.add_error(None, "No symbols found in the file.")
        return _render_import(request, context, status=422)
    picks = {
        index: request.POST.get(f"pick_{index}", "")
        for index in range(len(rows))
        if request.POST.get(f"pick_{index}")
    }
    items = importing.preview(rows, broker=account.broker, picks=picks)
    into = None
    if data.get("into"):
        into = selectors.watchlist_for(request.user, data["into"])
        existing = set(into.members.values_list("exchange", "symbol"))
        items = importing.mark_already(items, existing=existing, list_name=into.name)
    counts = importing.counts(items)
    context.update(items=items, counts=counts, into=into, skipped=importing.skipped_text(counts))
    if request.POST.get("step") != "confirm":
        return _render_import(request, context)
    if not counts["imported"]:
        reason = "no symbol resolved"
        if into is not None and counts["already"]:
            reason = f"all already in {into.name}"
        form.add_error(None, f"Nothing to import: {reason}.")
        return _render_import(request, context, status=422)
    try:
        result = services.import_rows(
            user=request.user,
            items=items,
            watchlist=into,
            name=data.get("name", ""),
            kind=data["kind"],
        )
    except services.Refused as exc:
        form.add_error("name" if into is None else "into", exc.message)
        return _render_import(request, context, status=422)
    already = f"{result.already:,} {'was' if result.already == 1 else 'were'} already there"
    messages.success(
        request,
        f"Imported {counted(result.added, 'symbol')} into {result.watchlist.name}"
        + (f"; {already}" if result.already else "")
        + (f"; {counted(result.skipped, 'row')} skipped" if result.skipped else "")
        + ".",
    )
    return redirect(
        f"{reverse('watchlists:detail', args=[result.watchlist.pk])}?account={account.pk}"
    )


def _read_upload(form: ImportForm) -> str:
    upload = form.cleaned_data.get("file")
    if upload:
        importing.check_bytes(upload.size)
        return importing.decode(upload.read(importing.MAX_IMPORT_BYTES + 1))
    pasted = form.cleaned_data.get("text") or ""
    if not pasted.strip():
        raise importing.ImportRefused("Paste a list or choose a file.")
    return importing.check_size(pasted)


# --- Baskets ------------------------------------------------------------------------


def basket_context(request: AuthedHttpRequest, watchlist: Watchlist, account, form=None) -> dict:
    from . import baskets

    runs = list(watchlist.runs.all()[:10])
    return {
        "basket_form": form
        or BasketOrderForm(
            initial={
                "funds": watchlist.funds,
                "mode": watchlist.mode,
                "product": "CNC",
                "order_type": "LIMIT",
                "buffer_pct": Decimal("0.5"),
            }
        ),
        "runs": [baskets.run_status(run) for run in runs],
        "request_key": uuid.uuid4().hex,  # new with every render of the card
        "pnl": baskets.pnl(watchlist=watchlist),
        "has_reference": watchlist.members.filter(reference_price__isnull=False).exists(),
    }


def _basket(request: AuthedHttpRequest, watchlist: Watchlist, **extra) -> HttpResponse:
    return _detail(request, watchlist, fragment="watchlists/_basket.html", **extra)


def _confirm_buy(request, watchlist, form, terms, sized: dict, status: int = 200) -> HttpResponse:
    """The "Buy now" confirmation: the plan, and a signed token of exactly its legs."""
    from . import baskets

    plan = baskets.preview(**sized)
    if plan.locked_over:
        raise baskets.BasketRefused(baskets.locked_refusal(plan))
    if not plan.orders:
        raise baskets.BasketRefused(baskets.NOTHING_TO_BUY)
    token = confirmations.sign(
        watchlist=watchlist,
        account=sized["account"],
        side="BUY",
        legs=[(leg.instrument, leg.quantity, leg.price) for leg in plan.legs if leg.quantity],
        terms=terms,
        funds=sized["funds"],
        mode=sized["mode"],
    )
    return _basket(
        request, watchlist, status=status, form=form, plan=plan, confirm_now=True, plan_token=token
    )


def _confirm_sell(request, watchlist, form, terms, account, status: int = 200) -> HttpResponse:
    """The "Sell basket" confirmation: the legs, and a signed token of exactly them."""
    from . import baskets

    legs = baskets.basket_to_sell(watchlist=watchlist, account=account)
    if not legs:
        raise baskets.BasketRefused(baskets.nothing_to_sell(watchlist=watchlist, account=account))
    token = confirmations.sign(
        watchlist=watchlist,
        account=account,
        side="SELL",
        legs=[(instrument, quantity, None) for instrument, quantity in legs],
        terms=terms,
    )
    return _basket(request, watchlist, status=status, form=form, sell_legs=legs, plan_token=token)


@require_POST
def basket(request: AuthedHttpRequest, watchlist_id: int) -> HttpResponse:
    """The basket card's one form: preview, freeze prices, buy (queue or now), sell."""
    from . import baskets

    watchlist = selectors.watchlist_for(request.user, watchlist_id)
    if not watchlist.is_basket:
        raise Http404("Not a basket.")
    account, _ = _account(request, request.POST)
    form = BasketOrderForm(request.POST)
    action = request.POST.get("action", "preview")
    if account is None:
        messages.error(request, "Add a broker account first.")
        return _basket(request, watchlist, status=422, form=form)
    actions = ("preview", "freeze", "queue", "now", "now_confirm", "sell", "sell_confirm")
    if action not in actions or not form.is_valid():
        return _basket(request, watchlist, status=422, form=form)
    data = form.cleaned_data
    terms = baskets.Terms(
        product=data["product"],
        order_type=data["order_type"],
        buffer_pct=data["buffer_pct"],
        send_now=action == "now_confirm",
        amo=data["amo"],
        request_key=text(request.POST.get("request_key"), 40),
    )
    actor = request.user.get_username()
    sized = {
        "watchlist": watchlist,
        "account": account,
        "funds": data.get("funds"),
        "mode": data.get("mode"),
        "order_type": data["order_type"],
        "buffer_pct": data["buffer_pct"],
    }
    try:
        if data.get("funds") is not None and data.get("mode"):
            watchlist.funds, watchlist.mode = data["funds"], data["mode"]
            watchlist.save(update_fields=["funds", "mode", "updated_at"])
        if action == "preview":
            plan = baskets.preview(**sized)
            return _basket(request, watchlist, form=form, plan=plan)
        if action == "freeze":
            count = baskets.freeze_prices(watchlist=watchlist, account=account)
            messages.success(request, f"Froze {counted(count, 'reference price')}.")
            return _basket(request, watchlist, form=form)
        if action == "now":  # a confirmation step first: account, orders, total value
            return _confirm_buy(request, watchlist, form, terms, sized)
        if action == "sell":  # a preview of the sell legs first, then an explicit confirm
            return _confirm_sell(request, watchlist, form, terms, account)
        if action == "sell_confirm":
            run = baskets.sell(
                user=request.user,
                watchlist=watchlist,
                account=account,
                terms=terms,
                actor=actor,
                token=request.POST.get("plan", ""),
            )
        elif action == "now_confirm":
            run = baskets.buy(
                user=request.user,
                watchlist=watchlist,
                account=account,
                funds=data["funds"],
                mode=data["mode"],
                terms=terms,
                token=request.POST.get("plan", ""),
                actor=actor,
            )
        else:
            run = baskets.buy(
                user=request.user,
                watchlist=watchlist,
                account=account,
                funds=data["funds"],
                mode=data["mode"],
                terms=terms,
                actor=actor,
            )
    except confirmations.PlanRefused as exc:  # show the plan as it is now, to confirm again
        messages.error(request, exc.message)
        try:
            if action == "sell_confirm":
                return _confirm_sell(request, watchlist, form, terms, account, status=409)
            return _confirm_buy(request, watchlist, form, terms, sized, status=409)
        except baskets.BasketRefused as again:
            messages.error(request, again.message)
            return _basket(request, watchlist, status=422, form=form)
    except baskets.BasketRefused as exc:
        messages.error(request, exc.message)
        return _basket(request, watchlist, status=422, form=form)
    state = baskets.run_status(run)
    where = "sent now" if run.executed_now else "in the queue"
    verb = "Sell" if run.side == "SELL" else "Buy"
    preposition = "from" if run.side == "SELL" else "into"
    said = (
        f"{verb} {watchlist.name} {preposition} {run.account_name}: "
        f"{counted(run.orders.count(), 'order')} {where} ({state.summary})."
    )
    (messages.warning if state.failures else messages.success)(request, said)
    return _basket(request, watchlist, form=form)
