from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.shortcuts import redirect
from django.utils.decorators import method_decorator

from . import setup


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
