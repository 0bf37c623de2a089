from typing import cast

from django.http import HttpRequest

from sigmatrader.http import AuthedHttpRequest

from . import registry, selectors


def current_account(request: HttpRequest) -> dict:
    """The account pages act on (default, or ?account=<id>) and its capabilities.

    Templates ask `capabilities.gtt`, never a broker's name.
    """
    user = getattr(request, "user", None)
    if not user or not user.is_authenticated:
        return {}
    account = selectors.current_account(cast(AuthedHttpRequest, request))  # signed in
    try:
        capabilities = account.adapter_class.capabilities if account else None
    except registry.UnknownBroker:  # its broker was removed from settings
        capabilities = None
    return {
        "current_account": account,
        "capabilities": capabilities,
        "user_accounts": list(selectors.accounts_of(user)),
    }
