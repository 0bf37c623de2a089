"""Connecting accounts and keeping their sessions alive. Broker-agnostic: the
account's adapter, from the registry, does the broker's part.

Any adapter call made through `calling(account)` that meets AuthExpired marks
the account expired (event + status), whoever made the call.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
from collections.abc import Iterator, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING

from django.core import signing
from django.core.cache import cache
from django.utils import timezone

from sigmatrader.models import SystemEvent

from . import accounts
from .adapter import BrokerAdapter
from .base import (
    AuthExpired,
    BrokerError,
    InvalidCredentials,
)
from .events import account_event
from .models import UNREADABLE_MESSAGE, BrokerAccount, can_reconnect_unattended
from .signals import account_reset

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger(__name__)
Status = BrokerAccount.Status

STATE_SALT = "brokers.connect.state"
STATE_MAX_AGE = 600  # seconds a login at the broker may take
REFRESH_MARGIN = timedelta(minutes=30)  # refresh a session this long before it ends
RELOGIN_BACKOFF = timedelta(hours=1)  # after a failed automatic login, wait before the next
AUTO_LOGIN_FAILED = "automatic login failed"


class ConnectError(Exception):
    """A connect attempt failed; `message` is safe to show the user."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def adapter_for(account: BrokerAccount) -> BrokerAdapter:
    if account.secrets_unreadable:
        # That account's failure, as its own event; every caller's per-account
        # handling of BrokerError keeps the other accounts going.
        accounts.mark_unreadable(account=account)
        raise BrokerError(UNREADABLE_MESSAGE)
    return account.adapter_class(
        credentials=account.credentials or {},
        session=account.session or {},
        account_key=str(account.pk),
    )


@contextlib.contextmanager
def calling(account: BrokerAccount) -> Iterator[BrokerAdapter]:
    """Yield the account's adapter; an auth error on the way out marks it expired."""
    try:
        yield adapter_for(account)
    except AuthExpired as exc:
        accounts.mark_expired(account=account, reason=exc.message)
        raise


# --- Redirect (OAuth-style) flow --------------------------------------------------------


def start_redirect_login(*, account: BrokerAccount) -> str:
    """The broker login URL, carrying a signed, single-use state bound to user and account."""
    nonce = secrets.token_urlsafe(16)
    cache.set(f"brokers:connect-nonce:{nonce}", account.pk, STATE_MAX_AGE)
    state = signing.dumps({"a": account.pk, "u": account.user_id, "n": nonce}, salt=STATE_SALT)
    return adapter_for(account).login_url(state=state)


def complete_redirect_login(*, user: User, broker: str, params: Mapping[str, str]) -> BrokerAccount:
    """Check the state that came back, then exchange the broker's token for a session.

    A forged, expired, foreign or replayed state connects nothing.
    """
    try:
        state = signing.loads(params.get("state", ""), salt=STATE_SALT, max_age=STATE_MAX_AGE)
    except signing.SignatureExpired as exc:
        raise ConnectError("The login took too long. Start again from Settings.") from exc
    except signing.BadSignature as exc:
        raise ConnectError("This login link is not valid. Start again from Settings.") from exc
    if state.get("u") != user.pk:
        raise ConnectError("This login was started by another user.")
    account = BrokerAccount.objects.filter(pk=state.get("a"), user=user, broker=broker).first()
    if account is None:
        raise ConnectError("This login does not belong to one of your accounts.")
    # Single use: a replayed callback finds its nonce gone.
    if cache.get(f"brokers:connect-nonce:{state.get('n')}") != account.pk or not cache.delete(
        f"brokers:connect-nonce:{state.get('n')}"
    ):
        raise ConnectError("This login was already used. Start again from Settings.")
    try:
        session = adapter_for(account).complete_login(params=params)
    except BrokerError as exc:
        accounts.mark_error(account=account, reason=f"Connect failed: {exc.message}")
        raise ConnectError(exc.message) from exc
    accounts.store_session(account=account, session=session, event="connected")
    return account


# --- Credentials flow ---------------------------------------------------------------------------


def connect_with_credentials(*, account: BrokerAccount, per_connect: Mapping[str, str]) -> None:
    """Log in with stored credentials plus what the user typed (PIN, TOTP code).

    On failure nothing is stored and the broker's message is raised for the form.
    """
    try:
        session = adapter_for(account).connect(per_connect=per_connect)
    except InvalidCredentials as exc:
        raise ConnectError(exc.message) from exc
    except BrokerError as exc:
        raise ConnectError(f"Could not connect: {exc.message}") from exc
    accounts.store_session(account=account, session=session, event="connected")


def reset(*, account: BrokerAccount) -> None:
    """Start a simulated account over (its adapter declares `resettable`)."""
    adapter_for(account).reset()
    account_reset.send(sender=BrokerAccount, account=account)
    account_event(
        account,
        f"Account {account.display_name} reset to its starting state",
        level=SystemEvent.Level.WARNING,
    )


def disconnect(*, account: BrokerAccount) -> None:
    if not account.secrets_unreadable:
        adapter_for(account).disconnect()  # best effort at the broker
    accounts.disconnect_locally(account=account)


# --- Checks and the token lifecycle -------------------------------------------------------------


def check(*, account: BrokerAccount) -> bool:
    """Ask the broker whether the session still works; update the account either way."""
    if account.secrets_unreadable:
        accounts.mark_unreadable(account=account)
        return False
    if not account.session:
        return False
    try:
        with calling(account) as adapter:
            profile = adapter.profile()
    except AuthExpired:
        return False
    except BrokerError as exc:
        accounts.mark_error(account=account, reason=exc.message)
        return False
    account.status = Status.CONNECTED
    account.last_error = ""
    account.last_checked_at = timezone.now()
    if profile.broker_user_id:
        account.broker_user_id = profile.broker_user_id
    account.save(
        update_fields=["status", "last_error", "last_checked_at", "broker_user_id", "updated_at"]
    )
    return True


def refresh_session(*, account: BrokerAccount) -> str:
    """Keep one account's session alive. Returns what was done (for logs and tests).

    refreshed: renewed before expiry; relogged: logged in again with stored
    credentials; expired: marked expired; kept: nothing needed.
    """
    if account.secrets_unreadable:
        accounts.mark_unreadable(account=account)
        return "unreadable"
    if account.status == Status.NOT_CONNECTED:
        return "kept"  # the user disconnected it: only the user connects it again
    now = timezone.now()
    adapter_class = account.adapter_class
    ends = account.session_expires_at
    live = account.status == Status.CONNECTED and bool(account.session)

    if live and ends and ends - now > REFRESH_MARGIN:
        return "kept"
    refresh_rejected = False
    if live and adapter_class.capabilities.session_refresh and (ends is None or ends > now):
        try:
            session = adapter_for(account).refresh()
        except BrokerError as exc:
            refresh_rejected = isinstance(exc, AuthExpired)
            accounts.record_refresh_failure(account=account, reason=exc.message)
        else:
            accounts.store_session(account=account, session=session, event="refreshed")
            return "refreshed"
    if can_reconnect_unattended(account):
        recently_failed = (
            account.status == Status.EXPIRED
            and account.last_error.startswith(AUTO_LOGIN_FAILED)
            and account.last_checked_at
            and now - account.last_checked_at < RELOGIN_BACKOFF
        )
        if recently_failed:
            return "kept"  # a wrong stored PIN should not lock the account or flood events
        try:
            connect_with_credentials(account=account, per_connect={})
        except ConnectError as exc:
            accounts.mark_expired(account=account, reason=f"{AUTO_LOGIN_FAILED}: {exc.message}")
            return "expired"
        return "relogged"
    if live and ((ends and ends <= now) or refresh_rejected):
        reason = "the broker refused to renew it" if refresh_rejected else "it has ended"
        accounts.mark_expired(account=account, reason=f"broker session: {reason}")
        return "expired"
    return "kept"


def refresh_all_sessions() -> dict[str, int]:
    counts: dict[str, int] = {}
    candidates = BrokerAccount.objects.filter(status__in=[Status.CONNECTED, Status.EXPIRED])
    for account in candidates.select_related("user").iterator():
        try:
            outcome = refresh_session(account=account)
        except Exception:  # one account's failure never stops the others
            logger.exception("session refresh crashed for account %s", account.pk)
            outcome = "error"
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts
