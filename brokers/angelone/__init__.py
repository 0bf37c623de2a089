"""AngelOne, through the official `smartapi-python` client (SmartAPI REST).

Connect flow: client code + PIN + TOTP on our form (or, if the user chose to
store the PIN and TOTP secret, computed with pyotp for unattended re-login).
The session is a JWT (its `exp` claim is the expiry), a refresh token and a
feed token; `generateTokens` renews the JWT with the refresh token.

The client library is imported lazily and contained (see `_smart_connect`):
at import it calls a public IP-echo service with no timeout, its constructor
writes a dated `logs/` folder into the working directory, and on any error it
logs the request (PIN and TOTP included) and headers through logzero.

Rate limits (SmartAPI forum announcement "Changes in API Rate Limit", per
endpoint and per user): placeOrder/modifyOrder/cancelOrder 20/s, 500/min,
1000/h; getLtpData and market quote 10/s, 500/min, 5000/h; getCandleData 3/s
and 180/min; getOrderBook, getTradeBook, getHolding, getPosition 1/s; getRMS
2/s; loginByPassword and generateTokens 1/s.
"""

from .adapter import AngelOneAdapter

__all__ = ["AngelOneAdapter"]
