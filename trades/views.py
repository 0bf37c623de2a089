"""Trades, P&L, export, import and adjustments: thin views over selectors and services.

Every read goes through trades/selectors.py with the signed-in user; an id that is
not the user's is a 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Max, Min
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from brokers import selectors as broker_selectors
from sigmatrader.http import AuthedHttpRequest
from sigmatrader.pages import page_or_fragment, paginate, wants_fragment
from sigmatrader.params import object_id

from . import capture, importing, selectors, services, stats
from . import export as exporting
from .charges import LABEL as CHARGES_LABEL
from .forms import AdjustmentForm, CoversForm, ImportForm, MarkNoTradesForm, OpeningLotForm
from .matching import fy_label
from .models import PendingImport, RoundTrip

CLASS_ORDER = ["INTRADAY", "STCG", "LTCG", "FNO"]


def _filters(request: AuthedHttpRequest) -> dict:
    """The chosen account (one of the user's, or None for all) and financial year."""
    accounts = list(broker_selectors.accounts_of(request.user).order_by("label"))
    chosen = str(request.GET.get("account") or "")
    wanted = object_id(chosen)
    account = next((a for a in accounts if a.pk == wanted), None)
    # A deleted account's kept history: "deleted-<its id>".
    deleted_accounts = selectors.deleted_accounts(user=request.user)
    gone = object_id(chosen.removeprefix("deleted-")) if chosen.startswith("deleted-") else None
    deleted = next(((ref, name) for ref, name in deleted_accounts if ref == gone), None)
    years = selectors.financial_years(user=request.user)
    fy = object_id(request.GET.get("fy"))
    if fy not in {y for y, _ in years}:
        fy = None
    chosen_value = str(account.pk) if account else f"deleted-{deleted[0]}" if deleted else ""
    query = "&".join(
        part
        for part in (f"account={chosen_value}" if chosen_value else "", f"fy={fy}" if fy else "")
        if part
    )
    return {
        "accounts": accounts,
        "account": account,
        "deleted_accounts": deleted_accounts,
        "deleted": deleted,  # (id, name) of the chosen deleted account
        "deleted_ref": deleted[0] if deleted else None,
        "chosen_value": chosen_value,
        "years": years,
        "fy": fy,
        "fy_name": fy_label(fy) if fy else "All years",
        "query": query,
        "fragment": wants_fragment(request),  # the fragment re-sends the filter form
    }


@require_GET
def trade_list(request: AuthedHttpRequest) -> HttpResponse:
    context = _filters(request)
    rows = selectors.trades_of(
        user=request.user,
        account=context["account"],
        fy=context["fy"],
        deleted=context["deleted_ref"],
    )
    context["page"] = paginate(request, rows, 100)
    context["missed"] = (
        []
        if context["deleted"]
        else selectors.missed_by_account(user=request.user, account=context["account"])
    )
    return page_or_fragment(request, "trades/list.html", "trades/_list_body.html", context)


def _pnl_context(request: AuthedHttpRequest) -> dict:
    context = _filters(request)
    rows = selectors.round_trips_of(
        user=request.user,
        account=context["account"],
        fy=context["fy"],
        deleted=context["deleted_ref"],
    )
    trips = selectors.results_of(rows)
    overall = stats.summarise(trips, "All")
    labels = dict(RoundTrip.Classification.choices)
    by_class = {s.label: s for s in stats.by(trips, "classification")}
    context.update(
        {
            "overall": overall,
            "classes": [
                (key, labels[key], by_class[key]) for key in CLASS_ORDER if key in by_class
            ],
            "strategies": stats.by(trips, "strategy"),
            "chart": stats.curve_points(overall.curve),
            "span": rows.aggregate(first=Min("close_date"), last=Max("close_date")),
            "page": paginate(request, rows.reverse(), 50),
            "charges_label": CHARGES_LABEL,
            "unmatched": list(
                selectors.unmatched_sales_of(
                    user=request.user,
                    account=context["account"],
                    fy=context["fy"],
                    deleted=context["deleted_ref"],
                )
            ),
        }
    )
    return context


@require_GET
def pnl(request: AuthedHttpRequest) -> HttpResponse:
    return page_or_fragment(
        request, "trades/pnl.html", "trades/_pnl_body.html", _pnl_context(request)
    )


@require_GET
def export(request: AuthedHttpRequest, fmt: str) -> HttpResponse:
    if fmt not in ("csv", "xlsx"):
        raise Http404("No such format.")
    context = _filters(request)
    trips = list(
        selectors.round_trips_of(
            user=request.user,
            account=context["account"],
            fy=context["fy"],
            deleted=context["deleted_ref"],
        )
    )
    unmatched = list(
        selectors.unmatched_sales_of(
            user=request.user,
            account=context["account"],
            fy=context["fy"],
            deleted=context["deleted_ref"],
        )
    )
    name = "pnl" + (f"-fy{context['fy']}" if context["fy"] else "")
    if fmt == "csv":
        response = HttpResponse(
            exporting.as_csv(trips, unmatched), content_type="text/csv; charset=utf-8"
        )
    else:
        response = HttpResponse(
            exporting.as_xlsx(trips, unmatched),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


# --- Import ----------------------------------------------------------------------


def _importable(request: AuthedHttpRequest) -> list:
    return [
        a
        for a in broker_selectors.accounts_of(request.user).order_by("label")
        if a.adapter_class.trade_export_label
    ]


@require_http_methods(["GET", "POST"])
def import_upload(request: AuthedHttpRequest) -> HttpResponse:
    accounts = _importable(request)
    form = ImportForm(request.POST or None, request.FILES or None, accounts=accounts)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            account = next(a for a in accounts if a.pk == form.cleaned_data["account"])
            upload = form.cleaned_data["file"]
            try:
                if upload.size > importing.MAX_BYTES:
                    raise importing.ImportRefused(
                        f"The file is {upload.size / 1024 / 1024:.1f} MB; at most 5 MB can be "
                        "imported at once. Download a shorter date range and import each."
                    )
                pending = importing.stage(
                    user=request.user,
                    account=account,
                    data=upload.read(importing.MAX_BYTES + 1),
                    filename=upload.name or "",
                )
            except importing.ImportRefused as exc:
                form.add_error("file", exc.message)
            else:
                return redirect("trades:import-preview", pending.pk)
    return render(
        request, "trades/import.html", {"form": form, "accounts": accounts}, status=status
    )


@require_http_methods(["GET", "POST"])
def import_preview(request: AuthedHttpRequest, pending_id: int) -> HttpResponse:
    pending = (
        PendingImport.objects.select_related("account")
        .filter(pk=pending_id, user=request.user)
        .first()
    )
    if pending is None:  # cancelled, expired, or not the user's: say so, never a bare 404
        return render(request, "trades/import_gone.html", status=404)
    if pending.confirmed_at is not None:  # Back after confirming, or sent twice
        return render(request, "trades/import_done.html", {"pending": pending})
    if request.method == "POST":
        if request.POST.get("step") == "cancel":
            pending.delete()
            messages.info(request, "Import cancelled: nothing was written.")
            return redirect("trades:import")
        form = CoversForm(request.POST)
        problem = ""
        if form.is_valid():
            try:
                result = importing.confirm(pending=pending, **form.cleaned_data)
            except importing.AlreadyConfirmed:
                pending.refresh_from_db()
                return render(request, "trades/import_done.html", {"pending": pending})
            except importing.ImportRefused as exc:
                problem = exc.message
            else:
                messages.success(
                    request,
                    f"Imported {plural(result.added, 'trade')} into "
                    f"{pending.account.display_name} ({plural(result.skipped, 'row')} skipped); "
                    f"{plural(result.days, 'trading day')} now "
                    f"{'counts' if result.days == 1 else 'count'} as captured.",
                )
                return redirect(f"{reverse('trades:list')}?account={pending.account.pk}")
        else:
            problem = " ".join(e for errors in form.errors.values() for e in errors)
        return _preview_page(request, pending, form=form, problem=problem, status=422)
    return _preview_page(request, pending, form=None)


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def _preview_page(request, pending, *, form, problem="", status=200) -> HttpResponse:
    try:
        result = importing.preview(account=pending.account, text=pending.text)
    except importing.ImportRefused as exc:
        # Not deleted here: a GET changes nothing (old pending imports are pruned).
        messages.error(request, exc.message)
        return redirect("trades:import")
    if form is None:
        form = CoversForm(initial={"covers_from": result.first_day, "covers_to": result.last_day})
    return render(
        request,
        "trades/import_preview.html",
        {
            "pending": pending,
            "preview": result,
            "counts": dict(result.counts),
            "covers": form,
            "problem": problem,
        },
        status=status,
    )


# --- Adjustments -----------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def adjustments(request: AuthedHttpRequest) -> HttpResponse:
    form = AdjustmentForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                adjustment = services.add_adjustment(user=request.user, **form.cleaned_data)
            except services.Refused as exc:
                form.add_error(exc.field, exc.message)
            else:
                messages.success(request, f"{adjustment} added; the P&L was matched again.")
                return redirect("trades:adjustments")
    return _adjustments_page(request, form, status=status)


def _adjustments_page(request, form, *, status=200, lot_errors=None) -> HttpResponse:
    context = {
        "form": form,
        "rows": selectors.adjustments_of(user=request.user),
        "lots": selectors.opening_lots_of(user=request.user),
        "lot_errors": lot_errors or {},
    }
    return render(request, "trades/adjustments.html", context, status=status)


@require_POST
def opening_lot(request: AuthedHttpRequest, lot_id: int) -> HttpResponse:
    if not selectors.opening_lots_of(user=request.user).filter(pk=lot_id).exists():
        raise Http404("No such opening lot.")
    form = OpeningLotForm(request.POST)
    problem = ""
    if form.is_valid():
        try:
            services.set_acquired_on(
                user=request.user, lot_id=lot_id, acquired_on=form.cleaned_data["acquired_on"]
            )
        except services.Refused as exc:
            problem = exc.message
        else:
            messages.success(request, "Purchase date saved; the P&L was matched again.")
            return redirect("trades:adjustments")
    else:
        problem = " ".join(e for errors in form.errors.values() for e in errors)
    return _adjustments_page(request, AdjustmentForm(), status=422, lot_errors={lot_id: problem})


@require_POST
def adjustment_delete(request: AuthedHttpRequest, adjustment_id: int) -> HttpResponse:
    if not selectors.adjustments_of(user=request.user).filter(pk=adjustment_id).exists():
        raise Http404("No such adjustment.")
    services.delete_adjustment(user=request.user, adjustment_id=adjustment_id)
    messages.success(request, "Adjustment removed; the P&L was matched again.")
    return redirect("trades:adjustments")


# --- Missed days -------------------------------------------------------------------


@require_POST
def mark_no_trades(request: AuthedHttpRequest) -> HttpResponse:
    """From the missed-days warning: these days had no trades (or need none)."""
    account = (
        broker_selectors.accounts_of(request.user)
        .filter(pk=object_id(request.POST.get("account")))
        .first()
    )
    if account is None:
        raise Http404("No such account.")
    form = MarkNoTradesForm(request.POST)
    if form.is_valid():
        try:
            count = capture.mark_no_trades(account=account, **form.cleaned_data)
        except capture.MarkRefused as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request,
                f"{plural(count, 'trading day')} of {account.display_name} marked as "
                "having no trades.",
            )
    else:
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
    return redirect(f"{reverse('trades:list')}?account={account.pk}")
