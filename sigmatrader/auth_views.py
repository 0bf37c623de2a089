from django import forms
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.decorators import method_decorator
from django_otp import login as otp_login

from . import setup, two_factor
from .pages import safe_next


class SignInForm(AuthenticationForm):
    """Username and password, then the authenticator code for a user who turned on
    two-factor sign-in. django-axes counts every failure (a wrong code too)."""

    otp_token = forms.CharField(
        label="Two-factor code",
        required=False,
        max_length=12,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "size": 8}
        ),
        help_text="Only if you turned on two-factor sign-in: the 6 digits your app shows.",
    )
    otp_device = None

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if not two_factor.is_enabled(user):
            return
        device = two_factor.verify_sign_in(
            user=user, code=self.data.get("otp_token", ""), request=self.request
        )
        if device is None:
            raise forms.ValidationError(
                "Enter the current 6-digit code from your authenticator app.", code="otp"
            )
        self.otp_device = device


# Overriding dispatch drops LoginView's own marker, so it is set again here.
@method_decorator(login_not_required, name="dispatch")
class SignInView(auth_views.LoginView):
    template_name = "registration/login.html"
    authentication_form = SignInForm
    redirect_authenticated_user = True

    def dispatch(self, request, *args, **kwargs):
        # Nobody can sign in before the first account exists: send them to create it.
        if setup.needs_first_run():
            return redirect("dashboard")
        return super().dispatch(request, *args, **kwargs)

    def get_redirect_url(self):
        # The one safe-redirect rule (sigmatrader/pages.py): a path on this site only.
        return safe_next(self.request)

    def form_valid(self, form):
        response = super().form_valid(form)
        if form.otp_device is not None:
            otp_login(self.request, form.otp_device)
        return response


class SignOutView(auth_views.LogoutView):
    def get_redirect_url(self):
        return safe_next(self.request)


def admin_login(request, extra_context=None):
    """The admin signs in through the app's own sign-in page (throttled, two-factor)."""
    if request.user.is_authenticated:
        if request.user.is_staff:
            return redirect("admin:index")
        raise PermissionDenied  # signed in, not staff: signing in again would loop
    return redirect_to_login(
        request.GET.get("next") or reverse("admin:index"), login_url=reverse("login")
    )
