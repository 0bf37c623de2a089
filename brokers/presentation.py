"""What the Settings page shows about broker accounts (no broker calls here)."""

from django.urls import reverse

from sigmatrader.http import AuthedHttpRequest
from sigmatrader.site import site_url

from . import registry, selectors
from .base import ConnectFlow


def settings_context(request: AuthedHttpRequest) -> dict:
    adapters = registry.all_adapters()
    return {
        "broker_accounts": list(selectors.accounts_of(request.user)),
        "redirect_brokers": [
            {
                "label": adapter.label,
                "callback_url": site_url(request, reverse("brokers:callback", args=[adapter.name])),
            }
            for adapter in adapters
            if adapter.connect_flow is ConnectFlow.OAUTH_REDIRECT
        ],
    }
