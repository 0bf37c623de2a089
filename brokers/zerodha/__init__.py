"""Zerodha, through the official `kiteconnect` client (Kite Connect v3).

Connect flow: OAuth-style redirect. The browser goes to Kite's login page with
the account's API key and our signed `state` in `redirect_params`; Kite sends
it back with a `request_token`, which `generate_session` exchanges (with the
API secret) for an access token valid until 06:00 India time the next day.

Rate limits (Kite Connect documentation, "Rate limits"): quotes 1 req/s,
historical 3 req/s, order placement 10 req/s with 400/min and 5,000/day, all
other endpoints 10 req/s.
"""

from .adapter import ZerodhaAdapter

__all__ = ["ZerodhaAdapter"]
