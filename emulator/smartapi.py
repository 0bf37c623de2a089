"""SmartAPI (AngelOne) REST routes, with the real envelopes and field names.

`{"status": true, "message": "SUCCESS", "errorcode": "", "data": ...}` on
success and `status: false` with an `errorcode` (AB1xxx) on failure; the
gateway's token errors use `{"success": false, "errorCode": "AG8001", ...}`;
numbers arrive as strings; requests carry `X-PrivateKey` and a Bearer JWT;
rate-limited calls get a plain-text 403.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import sys
import time
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pyotp

from .http import Request, Response, signed_in
from .routing import route
from .state import EmulatorState, Fault, SmartUser

IST = ZoneInfo("Asia/Kolkata")
BROKER = "smartapi"
JWT_KEY = b"emulator-signing-key"

PRODUCTS = {"DELIVERY": "CNC", "INTRADAY": "MIS", "CARRYFORWARD": "NRML", "MARGIN": "NRML"}
PRODUCT_NAMES = {"CNC": "DELIVERY", "MIS": "INTRADAY", "NRML": "CARRYFORWARD"}
ORDER_TYPES = {
    "MARKET": "MARKET",
    "LIMIT": "LIMIT",
    "STOPLOSS_LIMIT": "SL",
    "STOPLOSS_MARKET": "SL-M",
}
ORDER_TYPE_NAMES = {v: k for k, v in ORDER_TYPES.items()}


def num(value) -> str:
    """SmartAPI sends numbers as strings."""
    return f"{Decimal(value):.2f}"


def ok(data, message="SUCCESS") -> Response:
    return Response.json({"status": True, "message": message, "errorcode": "", "data": data})


def fail(message: str, code: str, status: int = 200) -> Response:
    return Response.json(
        {"status": False, "message": message, "errorcode": code, "data": None}, status
    )


def gateway_token_error(code="AG8001", message="Invalid Token") -> Response:
    return Response.json({"success": False, "message": message, "errorCode": code, "data": ""}, 401)


def fault_response(fault: Fault) -> Response:
    if fault.kind == "expired_token":
        return gateway_token_error("AG8002", "Token Expired")
    if fault.kind == "rate_limit":
        return Response.text("Access denied because of exceeding access rate", 403)
    if fault.kind == "bad_gateway":
        return Response.text("<html><body>502 Bad Gateway</body></html>", 502, "text/html")
    return fail("Internal Error, Please Try After Sometime", "AB2001", fault.status)


# --- Tokens -----------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make_jwt(user: SmartUser, expires_at: datetime) -> str:
    header = _b64(json.dumps({"alg": "HS512"}).encode())
    payload = _b64(
        json.dumps(
            {
                "username": user.client_code,
                "roles": 0,
                "userdata": {"country_code": ""},
                "iat": int(time.time()),
                "exp": int(expires_at.timestamp()),
            }
        ).encode()
    )
    signature = _b64(hmac.new(JWT_KEY, f"{header}.{payload}".encode(), hashlib.sha512).digest())
    return f"{header}.{payload}.{signature}"


def issue_session(state: EmulatorState, user: SmartUser, refresh_token: str | None = None) -> dict:
    placeholder = state.issue(user)  # registers the lifetime; the JWT is the real key
    token = state.tokens.pop(placeholder)
    jwt = make_jwt(user, token.expires_at)
    state.tokens[jwt] = token
    return {
        "jwtToken": jwt,
        "refreshToken": refresh_token or state.issue(user, kind="refresh"),
        "feedToken": state.issue(user, kind="feed"),
        "state": "live",
    }


def authenticate(state: EmulatorState, request: Request) -> SmartUser | Response:
    header = request.headers.get("authorization", "")
    if not header.startswith("Bearer "):
        return gateway_token_error("AG8003", "Token missing")
    jwt = header[7:]
    token = state.tokens.get(jwt)
    if token is None or token.revoked:
        return gateway_token_error("AG8001", "Invalid Token")
    if not token.valid:
        return gateway_token_error("AG8002", "Token Expired")
    user = token.owner
    if request.headers.get("x-privatekey") != user.api_key:
        return fail("Invalid API Key", "AG8004", 401)
    return user


authed = signed_in(authenticate)  # a handler's third argument is the signed-in user


# --- Session -----------------------------------------------------


def login(state: EmulatorState, request: Request):
    body = request.json()
    user = state.smart_users.get(body.get("clientcode", ""))
    if user is None or request.headers.get("x-privatekey") != user.api_key:
        return fail("Invalid clientcode or API key", "AB1000")
    if body.get("password") != user.pin:
        return fail("Invalid PIN", "AB1051")
    if not pyotp.TOTP(user.totp_secret).verify(str(body.get("totp", "")), valid_window=1):
        return fail("Invalid totp", "AB1050")
    return ok(issue_session(state, user))


def generate_tokens(state: EmulatorState, request: Request):
    body = request.json()
    owner = state.owner_of(body.get("refreshToken", ""), kind="refresh")
    if owner is None:
        return fail("Invalid Refresh Token", "AB8050")
    return ok(issue_session(state, owner, refresh_token=body["refreshToken"]))


@authed
def profile(state, request, user):
    return ok(
        {
            "clientcode": user.client_code,
            "name": user.name,
            "email": user.email,
            "mobileno": "",
            "exchanges": ["NSE", "BSE", "NFO"],
            "products": ["MARGIN", "MIS", "NRML", "CNC", "CO", "BO"],
            "lastlogintime": "",
            "brokerid": "B2C",
        }
    )


@authed
def logout(state, request, user):
    header = request.headers.get("authorization", "")
    state.revoke(header[7:])
    return ok("", message="SUCCESS")


@authed
def rms(state, request, user):
    book = user.book
    available = book.cash - book.used_margin
    return ok(
        {
            "net": num(available),  # usable now: cash less utilised debits
            "availablecash": num(book.cash),  # ledger cash, before debits
            "availableintradaypayin": "0.0000",
            "availablelimitmargin": "0.0000",
            "collateral": "0.0000",
            "m2munrealized": "0.0000",
            "m2mrealized": "0.0000",
            "utiliseddebits": num(book.used_margin),
            "utilisedspan": None,
            "utilisedoptionpremium": None,
            "utilisedholdingsales": None,
            "utilisedexposure": None,
            "utilisedturnover": None,
            "utilisedpayout": "0.0000",
        }
    )


# --- Quotes -----------------------------------------------------


@authed
def ltp(state, request, user):
    body = request.json()
    inst = state.market.by_smart_token.get((body.get("exchange", ""), str(body.get("symboltoken"))))
    if inst is None:
        return fail("Invalid Symbol Token", "AB1018")
    price, close = state.market.last_price(inst), state.market.close(inst)
    return ok(
        {
            "exchange": inst.exchange,
            "tradingsymbol": inst.smart_symbol,
            "symboltoken": inst.smart_token,
            "open": num(close),
            "high": num(max(price, close)),
            "low": num(min(price, close)),
            "close": num(close),
            "ltp": num(price),
        }
    )


@authed
def market_quote(state, request, user):
    body = request.json()
    fetched, unfetched = [], []
    requested = body.get("exchangeTokens") or {}
    if sum(len(v) for v in requested.values()) > 50:
        return fail("Maximum 50 tokens allowed", "AB4006")
    for exchange, tokens in requested.items():
        for token in tokens:
            inst = state.market.by_smart_token.get((exchange, str(token)))
            if inst is None:
                unfetched.append(
                    {
                        "exchange": exchange,
                        "symbolToken": str(token),
                        "message": "Invalid Token",
                        "errorCode": "AB4009",
                    }
                )
                continue
            price, close = state.market.last_price(inst), state.market.close(inst)
            fetched.append(
                {
                    "exchange": exchange,
                    "tradingSymbol": inst.smart_symbol,
                    "symbolToken": inst.smart_token,
                    "ltp": float(price),
                    "open": float(close),
                    "high": float(max(price, close)),
                    "low": float(min(price, close)),
                    "close": float(close),
                    "tradeVolume": 125000,
                    "exchFeedTime": datetime.now(IST).strftime("%d-%b-%Y %H:%M:%S"),
                }
            )
    return ok({"fetched": fetched, "unfetched": unfetched})


# --- Orders -----------------------------------------------------

STATUS_WORDS = {
    "OPEN": "open",
    "COMPLETE": "complete",
    "CANCELLED": "cancelled",
    "REJECTED": "rejected",
    "TRIGGER PENDING": "trigger pending",
    "AMO REQ RECEIVED": "after market order req received",
}


def _order_json(state, order) -> dict:
    inst = state.market.get(order.exchange, order.symbol)
    status = STATUS_WORDS.get(order.status, order.status.lower())
    return {
        "variety": order.variety,
        "ordertype": ORDER_TYPE_NAMES[order.order_type],
        "producttype": PRODUCT_NAMES[order.product],
        "duration": order.validity,
        "price": num(order.price),
        "triggerprice": num(order.trigger_price),
        "quantity": str(order.quantity),
        "disclosedquantity": "0",
        "squareoff": "0.000000",
        "stoploss": "0.000000",
        "trailingstoploss": "0.000000",
        "tradingsymbol": inst.smart_symbol,
        "transactiontype": order.side,
        "exchange": order.exchange,
        "symboltoken": inst.smart_token,
        "ordertag": order.tag if state.echo_order_tags else "",
        "instrumenttype": "",
        "strikeprice": "-1",
        "optiontype": "",
        "expirydate": "",
        "lotsize": str(inst.lot_size),
        "cancelsize": str(order.quantity) if order.status == "CANCELLED" else "0",
        "averageprice": num(order.average_price),
        "filledshares": str(order.filled_quantity),
        "unfilledshares": str(order.quantity - order.filled_quantity),
        "orderid": order.order_id,
        "text": order.status_message,
        "status": status,
        "orderstatus": status,
        "updatetime": order.updated_at.astimezone(IST).strftime("%d-%b-%Y %H:%M:%S"),
        "exchtime": order.updated_at.astimezone(IST).strftime("%d-%b-%Y %H:%M:%S"),
        "exchorderupdatetime": order.updated_at.astimezone(IST).strftime("%d-%b-%Y %H:%M:%S"),
        "fillid": "",
        "filltime": "",
        "parentorderid": "",
        "uniqueorderid": f"u-{order.order_id}",
    }


@authed
def place_order(state, request, user):
    body = request.json()
    exchange = body.get("exchange", "")
    inst = state.market.by_smart_token.get((exchange, str(body.get("symboltoken"))))
    if inst is None or inst.smart_symbol != body.get("tradingsymbol"):
        return fail("Invalid Symbol Token", "AB1018")
    if body.get("variety") not in ("NORMAL", "STOPLOSS", "AMO", "ROBO"):
        return fail("Invalid Order Variety", "AB1008")
    if body.get("variety") != "AMO" and not state.market_is_open():
        # SmartAPI's shape (status false + an AB code); the wording is the emulator's.
        return fail("Market is closed. Place an after market order (AMO) instead.", "AB4021")
    if body.get("producttype") not in PRODUCTS:
        return fail("Invalid Product Type", "AB1012")
    if body.get("ordertype") not in ORDER_TYPES or body.get("transactiontype") not in (
        "BUY",
        "SELL",
    ):
        return fail("Invalid Order Type", "AB4008")
    quantity = int(str(body.get("quantity", "0")) or 0)
    if quantity <= 0 or quantity % inst.lot_size:
        return fail("Invalid Quantity", "AB4005")
    tag = str(body.get("ordertag", ""))
    if len(tag) > 20:
        return fail("Ordertag length exceeds 20", "AB4036")
    order = state.place(
        user.book,
        inst,
        side=body["transactiontype"],
        quantity=quantity,
        order_type=ORDER_TYPES[body["ordertype"]],
        product=PRODUCTS[body["producttype"]],
        price=Decimal(str(body.get("price") or 0)),
        trigger_price=Decimal(str(body.get("triggerprice") or 0)),
        validity=body.get("duration", "DAY"),
        variety=body["variety"],
        tag=tag,
    )
    return ok(
        {
            "script": inst.smart_symbol,
            "orderid": order.order_id,
            "uniqueorderid": f"u-{order.order_id}",
        }
    )


@authed
def modify_order(state, request, user):
    body = request.json()
    order = user.book.orders.get(str(body.get("orderid")))
    if order is None:
        return fail("Order not found", "AB1013")
    changes = {
        "quantity": int(body["quantity"]) if body.get("quantity") else None,
        "price": Decimal(str(body["price"])) if body.get("price") else None,
        "trigger_price": Decimal(str(body["triggerprice"])) if body.get("triggerprice") else None,
        "order_type": ORDER_TYPES.get(body.get("ordertype", "")),
    }
    if not state.modify(user.book, order, **changes):
        return fail("Order cannot be modified", "AB4011")
    return ok({"orderid": order.order_id, "uniqueorderid": f"u-{order.order_id}"})


@authed
def cancel_order(state, request, user):
    body = request.json()
    order = user.book.orders.get(str(body.get("orderid")))
    if order is None:
        return fail("Order not found", "AB1013")
    if not state.cancel(order):
        return fail("Order cannot be cancelled", "AB4010")
    return ok({"orderid": order.order_id, "uniqueorderid": f"u-{order.order_id}"})


@authed
def order_book(state, request, user):
    rows = [_order_json(state, o) for o in user.book.orders.values()]
    return ok(rows or None)  # SmartAPI answers null, not [], for an empty book


@authed
def trade_book(state, request, user):
    rows = []
    for fill in user.book.trades:
        inst = state.market.get(fill.exchange, fill.symbol)
        rows.append(
            {
                "exchange": fill.exchange,
                "producttype": PRODUCT_NAMES[fill.product],
                "tradingsymbol": inst.smart_symbol,
                "instrumenttype": "",
                "symbolgroup": "EQ",
                "strikeprice": "-1",
                "optiontype": "",
                "expirydate": "",
                "marketlot": str(inst.lot_size),
                "precision": "2",
                "multiplier": "-1",
                "tradevalue": num(fill.price * fill.quantity),
                "transactiontype": fill.side,
                "fillprice": num(fill.price),
                "fillsize": str(fill.quantity),
                "orderid": fill.order_id,
                "fillid": fill.trade_id,
                "filltime": fill.at.astimezone(IST).strftime("%H:%M:%S"),
            }
        )
    return ok(rows or None)


@authed
def holdings(state, request, user):
    rows = []
    for lot in user.book.holdings.values():
        inst = state.market.get(lot.exchange, lot.symbol)
        last, close = state.market.peek(inst), state.market.close(inst)
        pnl = (last - lot.average_price) * lot.quantity
        rows.append(
            {
                "tradingsymbol": inst.smart_symbol,
                "exchange": lot.exchange,
                "isin": f"INE{inst.smart_token:0>6}01",
                "t1quantity": lot.t1_quantity,
                "realisedquantity": lot.quantity - lot.t1_quantity,
                "quantity": lot.quantity - lot.t1_quantity,
                "authorisedquantity": 0,
                "product": "DELIVERY",
                "collateralquantity": None,
                "collateraltype": None,
                "haircut": 0,
                "averageprice": float(lot.average_price),
                "ltp": float(last),
                "symboltoken": inst.smart_token,
                "close": float(close),
                "profitandloss": float(pnl),
                "pnlpercentage": float(pnl / (lot.average_price * lot.quantity) * 100),
            }
        )
    return ok(rows or None)


@authed
def positions(state, request, user):
    rows = []
    for pos in user.book.positions.values():
        inst = state.market.get(pos.exchange, pos.symbol)
        last = state.market.peek(inst)
        buy_avg = pos.buy_value / pos.buy_quantity if pos.buy_quantity else Decimal(0)
        sell_avg = pos.sell_value / pos.sell_quantity if pos.sell_quantity else Decimal(0)
        pnl = pos.sell_value - pos.buy_value + pos.quantity * last
        unrealised = (pos.quantity * (last - (buy_avg if pos.quantity > 0 else sell_avg))).quantize(
            Decimal("0.01")
        )
        rows.append(
            {
                "exchange": pos.exchange,
                "symboltoken": inst.smart_token,
                "producttype": PRODUCT_NAMES[pos.product],
                "tradingsymbol": inst.smart_symbol,
                "symbolname": inst.symbol,
                "instrumenttype": "",
                "priceden": "1.00",
                "pricenum": "1.00",
                "genden": "1.00",
                "gennum": "1.00",
                "precision": "2",
                "multiplier": "-1",
                "boardlotsize": str(inst.lot_size),
                "buyqty": str(pos.buy_quantity),
                "sellqty": str(pos.sell_quantity),
                "buyamount": num(pos.buy_value),
                "sellamount": num(pos.sell_value),
                "symbolgroup": "EQ",
                "strikeprice": "-1",
                "optiontype": "",
                "expirydate": "",
                "lotsize": str(inst.lot_size),
                "cfbuyqty": "0",
                "cfsellqty": "0",
                "cfbuyamount": "0.00",
                "cfsellamount": "0.00",
                "buyavgprice": num(buy_avg),
                "sellavgprice": num(sell_avg),
                "avgnetprice": num(buy_avg or sell_avg),
                "netvalue": spaced(pos.sell_value - pos.buy_value),
                "netqty": str(pos.quantity),
                "totalbuyvalue": num(pos.buy_value),
                "totalsellvalue": num(pos.sell_value),
                "cfbuyavgprice": "0.00",
                "cfsellavgprice": "0.00",
                "totalbuyavgprice": num(buy_avg),
                "totalsellavgprice": num(sell_avg),
                "netprice": num(buy_avg or sell_avg),
                "ltp": num(last),
                "pnl": num(pnl),
                # The open quantity at the last price, against the average of its side;
                # the rest was booked by the part already closed.
                "unrealised": num(unrealised),
                "realised": num(pnl - unrealised),
            }
        )
        if state.smart_positions_without_pnl:
            for key in ("ltp", "pnl", "unrealised", "realised"):
                del rows[-1][key]
    return ok(rows or None)


def spaced(value: Decimal) -> str:
    """SmartAPI writes a negative amount with a space after the sign: "- 2235.80"."""
    return f"- {num(-value)}" if value < 0 else num(value)


SMART_INTERVALS = {
    "ONE_MINUTE": "1m",
    "THREE_MINUTE": "3m",
    "FIVE_MINUTE": "5m",
    "TEN_MINUTE": "10m",
    "FIFTEEN_MINUTE": "15m",
    "THIRTY_MINUTE": "30m",
    "ONE_HOUR": "1h",
    "ONE_DAY": "1d",
}


@authed
def candles(state, request, user):
    from .history import bar, bar_times

    body = request.json()
    inst = state.market.by_smart_token.get((body.get("exchange", ""), str(body.get("symboltoken"))))
    if inst is None:
        return fail("Invalid Symbol Token", "AB1018")
    common = SMART_INTERVALS.get(body.get("interval", ""))
    if common is None:
        return fail("Invalid interval", "AB13000")
    try:
        start = datetime.strptime(body.get("fromdate", ""), "%Y-%m-%d %H:%M").replace(tzinfo=IST)
        end = datetime.strptime(body.get("todate", ""), "%Y-%m-%d %H:%M").replace(tzinfo=IST)
    except ValueError:
        return fail("Invalid date format", "AB13000")
    base = state.market.close(inst)
    rows = []
    for moment in bar_times(common, start, end):
        o, h, low, c, v = bar(inst, base, common, moment)
        rows.append([moment.isoformat(), float(o), float(h), float(low), float(c), v])
    return ok(rows or None)


# --- Instrument master (public) ---------------------------------------------------


def scrip_master(state: EmulatorState, request: Request):
    rows = []
    for inst in state.market.instruments.values():
        kind = inst.instrument_type
        rows.append(
            {
                "token": inst.smart_token,
                "symbol": inst.smart_symbol,
                "name": inst.underlying or (inst.symbol if kind == "EQ" else inst.name.upper()),
                "expiry": inst.expiry.strftime("%d%b%Y").upper() if inst.expiry else "",
                # Strikes and tick sizes are in paise (x100), as in the real master.
                "strike": f"{(inst.strike or Decimal(-0.01)) * 100:.6f}",
                "lotsize": str(inst.lot_size),
                "instrumenttype": {
                    "EQ": "",
                    "INDEX": "AMXIDX",
                    "FUT": "FUTIDX",
                    "CE": "OPTIDX",
                    "PE": "OPTIDX",
                }[kind],
                "exch_seg": inst.exchange,
                "tick_size": f"{inst.tick_size * 100:.6f}",
            }
        )
    return Response.json(rows)


def routes():
    module = sys.modules[__name__]
    base = "/rest/secure/angelbroking"

    def r(operation, method, path, handler):
        return route(BROKER, module, operation, method, path, handler)

    return [
        r("login", "POST", "/rest/auth/angelbroking/user/v1/loginByPassword", login),
        r("refresh", "POST", "/rest/auth/angelbroking/jwt/v1/generateTokens", generate_tokens),
        r("profile", "GET", f"{base}/user/v1/getProfile", profile),
        r("logout", "POST", f"{base}/user/v1/logout", logout),
        r("funds", "GET", f"{base}/user/v1/getRMS", rms),
        r("quote", "POST", f"{base}/order/v1/getLtpData", ltp),
        r("quote", "POST", f"{base}/market/v1/quote", market_quote),
        r("place", "POST", f"{base}/order/v1/placeOrder", place_order),
        r("modify", "POST", f"{base}/order/v1/modifyOrder", modify_order),
        r("cancel", "POST", f"{base}/order/v1/cancelOrder", cancel_order),
        r("orders", "GET", f"{base}/order/v1/getOrderBook", order_book),
        r("trades", "GET", f"{base}/order/v1/getTradeBook", trade_book),
        r("holdings", "GET", f"{base}/portfolio/v1/getHolding", holdings),
        r("positions", "GET", f"{base}/order/v1/getPosition", positions),
        r("history", "POST", f"{base}/historical/v1/getCandleData", candles),
        r("instruments", "GET", "/OpenAPI_File/files/OpenAPIScripMaster.json", scrip_master),
    ]
