from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.shortcuts import redirect
from django.utils.decorators import method_decorator

from . import setup
from .pages import safe_next


# Overriding dispatch drops LoginView's own marker, so it is set again here.
@method_decorator(login_not_required, name="dispatch")
class SignInView(auth_views.LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def dispatch(self, request, *args, **kwargs):
        # Nobody can sign in before the first account exists: send them to create it.
        if setup.needs_first_run():
            return redirect("dashboard")
        return super().dispatch(request, *args, **kwargs)

    def get_redirect_url(self):
        # The one safe-redirect rule (sigmatrader/pages.py): a path on this site only.
        return safe_next(self.request)


class SignOutView(auth_views.LogoutView):
    def get_redirect_url(self):
        return safe_next(self.request)
