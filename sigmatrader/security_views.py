"""Settings → Security: failed sign-ins for my username, two-factor sign-in on/off."""

from django.contrib import messages
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from . import two_factor


def security_context(request, **extra) -> dict:
    return {
        "two_factor_on": two_factor.is_enabled(request.user),
        "failed_sign_ins": two_factor.failed_sign_ins(request.user),
        **extra,
    }


def _card(request, status=200, **extra):
    fragment = request.htmx and not request.htmx.history_restore_request
    template = "sigmatrader/_security.html" if fragment else "sigmatrader/security.html"
    response = render(request, template, security_context(request, **extra), status=status)
    response["Vary"] = "HX-Request"
    return response


@require_GET
def security(request):
    return _card(request)


@require_POST
def two_factor_start(request):
    if two_factor.is_enabled(request.user):
        messages.info(request, "Two-factor sign-in is already on.")
        return _card(request)
    return _card(request, enrollment=two_factor.start_enrollment(user=request.user))


@require_POST
def two_factor_confirm(request):
    if two_factor.confirm_enrollment(user=request.user, code=request.POST.get("code", "")):
        messages.success(request, "Two-factor sign-in is on: sign-in now asks for a code.")
        return _card(request)
    messages.error(
        request, "That code did not match: type the code your app shows now, or start again."
    )
    return _card(request, status=422, confirm_failed=True)


@require_POST
def two_factor_disable(request):
    if two_factor.disable(user=request.user, code=request.POST.get("code", "")):
        messages.success(request, "Two-factor sign-in is off.")
        return _card(request)
    messages.error(request, "That code did not match: two-factor sign-in stays on.")
    return _card(request, status=422)
