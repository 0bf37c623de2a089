"""The contained SmartConnect client and the mapping of its errors."""

from __future__ import annotations

import logging
import threading

import requests

from ..base import (
    AuthExpired,
    BrokerError,
    BrokerUnavailable,
    InvalidCredentials,
    OrderRejected,
    OutcomeUnknown,
    RateLimited,
)
from ..transport import transport_error
from .mapping import (
    AMBIGUOUS_ERRORS,
    LOGIN_ERRORS,
    TOKEN_ERRORS,
)

logger = logging.getLogger(__name__)

# --- The contained client -----------------------------------------------------

_import_lock = threading.Lock()
_client_class = None


def _smart_connect():
    """Import SmartConnect once, without its side effects, and return a quiet subclass."""
    global _client_class
    with _import_lock:
        if _client_class is not None:
            return _client_class
        real_get = requests.get

        def no_ip_lookup(*args, **kwargs):
            raise requests.ConnectionError("SigmaTrader does not send the IP-echo request")

        import logzero

        # logzero's logger prints requests with PINs, TOTPs and keys: silent from the start.
        logzero.logger.disabled = True
        requests.get = no_ip_lookup  # only for the import: the class body calls requests.get
        try:
            from SmartApi.smartConnect import SmartConnect
        finally:
            requests.get = real_get

        class QuietSmartConnect(SmartConnect):
            """SmartConnect without the constructor's log folder and logzero file."""

            def __init__(
                self,
                *,
                api_key,
                root,
                timeout,
                access_token=None,
                refresh_token=None,
                feed_token=None,
                user_id=None,
            ):
                # Mirrors SmartConnect.__init__ (smartapi-python 1.5.x) minus its
                # os.makedirs("logs/<date>") and logzero.logfile() calls.
                self.debug = False
                self.api_key = api_key
                self.session_expiry_hook = None
                self.disable_ssl = False
                self.access_token = access_token
                self.refresh_token = refresh_token
                self.feed_token = feed_token
                self.userId = user_id
                self.proxies = {}
                self.root = root
                self.timeout = timeout
                self.Authorization = None
                self.clientLocalIP = self.clientLocalIp
                self.clientPublicIP = self.clientPublicIp
                self.privateKey = api_key
                self.reqsession = requests

        _client_class = QuietSmartConnect
        return _client_class


class SmartAPIError(Exception):
    """A `status: false` answer, before it is mapped."""

    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.message, self.code = message, code


def checked(response) -> dict | list | None:
    """The `data` of a SmartAPI answer, or SmartAPIError for either error envelope."""
    if not isinstance(response, dict):
        raise SmartAPIError("Unexpected answer from AngelOne.", "")
    if response.get("status") is True or response.get("success") is True:
        return response.get("data")
    code = str(response.get("errorcode") or response.get("errorCode") or "")
    raise SmartAPIError(str(response.get("message") or "AngelOne refused the request."), code)


def translate(exc: Exception, *, placement: bool = False, login: bool = False) -> BrokerError:
    if isinstance(exc, BrokerError):
        return exc
    if isinstance(exc, SmartAPIError):
        text = f"AngelOne says: {exc.message}" + (f" ({exc.code})" if exc.code else "")
        if login and (exc.code in LOGIN_ERRORS or not exc.code):
            return InvalidCredentials(text, code=exc.code)
        if exc.code in TOKEN_ERRORS:
            return AuthExpired(text, code=exc.code)
        if exc.code in AMBIGUOUS_ERRORS:
            if placement:
                return OutcomeUnknown(text, code=exc.code)
            return BrokerUnavailable(text, code=exc.code)
        if placement:
            return OrderRejected(text, code=exc.code)
        return BrokerError(text, code=exc.code)
    name = type(exc).__name__
    message = str(getattr(exc, "message", "") or exc)
    if name == "DataException" and "exceeding access rate" in message:
        return RateLimited("AngelOne rate limit reached.", code="rate", retry_after=1.0)
    return transport_error(exc, broker="AngelOne", placement=placement)
