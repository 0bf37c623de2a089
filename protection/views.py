"""Settings → Risk (the loss limit), the kill switch and the halts page. Thin: the
work is in protection/halts.py and protection/limits.py."""

from __future__ import annotations

from collections import Counter

from django.contrib import messages
from django.db import IntegrityError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from sigmatrader.http import AuthedHttpRequest
from sigmatrader.pages import wants_fragment
from sigmatrader.params import object_id
from sigmatrader.settings_page import render_settings

from . import halts, selectors
from .forms import ALL, KillSwitchForm, LossLimitForm, ReleaseForm, limit_for_scope
from .models import LossLimit


def _actor(request: AuthedHttpRequest) -> str:
    return request.user.get_username()[:60]


def settings_section(request: AuthedHttpRequest) -> dict:
    """The Settings → Risk card: the limits set, and the form (for all accounts first)."""
    limits = selectors.limits_of(user=request.user)
    # ?limit=<id> (the Edit link of a limit) fills the form with that limit.
    chosen = object_id(request.GET.get("limit"))
    instance = next((x for x in limits if x.pk == chosen), None) if chosen else None
    instance = instance or next((x for x in limits if x.account_id is None), None)
    return {
        "loss_limit_form": LossLimitForm(
            user=request.user, instance=instance or LossLimit(user=request.user)
        ),
        "loss_limits": selectors.limits_overview(user=request.user, limits=limits),
    }


def _go(request: AuthedHttpRequest, url: str) -> HttpResponse:
    """After a success: the page again (HTMX follows HX-Redirect; a plain form a 302),
    so a reload never posts again nor lands on a POST-only URL."""
    if wants_fragment(request):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


def _risk_card(request: AuthedHttpRequest, form: LossLimitForm) -> HttpResponse:
    """The Risk card with the form's errors (422): the card alone for HTMX (swapped in
    place, the first error scrolled into view and focused), else the Settings page."""
    if wants_fragment(request):
        limits = selectors.limits_of(user=request.user)
        return render(
            request,
            "protection/_risk_card.html",
            {
                "loss_limit_form": form,
                "loss_limits": selectors.limits_overview(user=request.user, limits=limits),
            },
            status=422,
        )
    return render_settings(request, status=422, loss_limit_form=form)


@require_http_methods(["GET", "POST"])
def save_limit(request: AuthedHttpRequest) -> HttpResponse:
    if request.method == "GET":  # a reload of the URL a plain form posted to
        return redirect(reverse("settings") + "#risk-limits")
    instance = limit_for_scope(request.user, request.POST.get("scope", ALL))
    form = LossLimitForm(
        request.POST, user=request.user, instance=instance or LossLimit(user=request.user)
    )
    if instance is not None and form.is_valid():
        limit = form.save(commit=False)
        limit.account = form.account
        try:
            limit.save()
        except IntegrityError:  # the same scope saved twice at once: the first one stands
            form.add_error("scope", "This limit was just saved elsewhere: reload and try again.")
            return _risk_card(request, form)
        scope = limit.account.display_name if limit.account else "all accounts"
        what = "Profit target" if limit.max_loss is None else "Daily loss limit"
        messages.success(request, f"{what} for {scope} saved; it is watched from now on.")
        return _go(request, reverse("settings") + "#risk-limits")
    return _risk_card(request, form)


@require_POST
def delete_limit(request: AuthedHttpRequest, limit_id: int) -> HttpResponse:
    pk = object_id(limit_id)
    deleted = LossLimit.objects.filter(user=request.user, pk=pk).delete()[0] if pk else 0
    if not deleted:
        raise Http404("No such limit.")
    messages.success(request, "Daily loss limit removed.")
    return redirect("settings")


@require_http_methods(["GET", "POST"])
def kill_switch(request: AuthedHttpRequest) -> HttpResponse:
    form = KillSwitchForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            halt = halts.kill_switch(
                user=request.user,
                account=form.account,
                typed=form.cleaned_data["typed"],
                actor=_actor(request),
            )
        except halts.ConfirmationMismatch as exc:
            form.add_error("typed", exc.message)
        else:
            messages.warning(
                request,
                f"Kill switch: trading halted for {halt.scope_name}. What it did is listed below.",
            )
            return redirect("protection:halts")
    status = 422 if request.method == "POST" else 200
    return render(
        request,
        "protection/kill_switch.html",
        {"form": form, "halts": selectors.halts_in_force(user=request.user)},
        status=status,
    )


def halts_page(request: AuthedHttpRequest) -> HttpResponse:
    return render(
        request,
        "protection/halts.html",
        {
            "halts": selectors.halts_today(user=request.user),
            "release_form": ReleaseForm(),
            "fresh_release_form": ReleaseForm(),
        },
    )


@require_http_methods(["GET", "POST"])
def release(request: AuthedHttpRequest, halt_id: int) -> HttpResponse:
    halt = selectors.halt_of(user=request.user, halt_id=object_id(halt_id) or 0)
    if halt is None:
        raise Http404("No such halt.")
    if request.method == "GET":  # a reload of the URL a plain form posted to
        return redirect(reverse("protection:halts") + f"#halt-{halt.pk}")
    form = ReleaseForm(request.POST)
    if form.is_valid():
        try:
            halts.release(
                user=request.user,
                halt=halt,
                typed=form.cleaned_data["typed"],
                actor=_actor(request),
            )
        except halts.ConfirmationMismatch as exc:
            form.add_error("typed", exc.message)
        else:
            messages.success(request, f"Halt of {halt.scope_name} released.")
            return _go(request, reverse("protection:halts"))
    context = {
        "halts": selectors.halts_today(user=request.user),
        "release_form": form,
        "fresh_release_form": ReleaseForm(),
        "release_for": halt.pk,
    }
    if wants_fragment(request):  # this halt's card alone, its error in view
        context["halt"] = next(h for h in context["halts"] if h.pk == halt.pk)
        return render(request, "protection/_halt_card.html", context, status=422)
    return render(request, "protection/halts.html", context, status=422)


@require_POST
def retry(request: AuthedHttpRequest, halt_id: int) -> HttpResponse:
    halt = selectors.halt_of(user=request.user, halt_id=object_id(halt_id) or 0)
    if halt is None:
        raise Http404("No such halt.")
    if halt.released_at is not None:
        messages.info(request, f"The halt of {halt.scope_name} was released: nothing to retry.")
        return redirect("protection:halts")
    tried = halts.retry_now(halt, actor=_actor(request))
    if not tried:
        messages.info(request, "Nothing was left to retry.")
    else:
        states = Counter(action.get_state_display().lower() for action in tried)
        said = ", ".join(f"{count} {state}" for state, count in states.items())
        actions = "action" if len(tried) == 1 else "actions"
        messages.info(request, f"{len(tried)} {actions} tried again: {said}.")
    return redirect(reverse("protection:halts") + f"#halt-{halt.pk}")
