"""Kite Connect v3 routes, with the real envelopes and field names.

Shapes follow Zerodha's published mock responses (tests/fixtures/kite):
`{"status": "success", "data": ...}` or `{"status": "error", "message": ...,
"error_type": "TokenException" | "InputException" | ...}`; order posts are
form-encoded; every call must carry `X-Kite-Version: 3`.
"""

from __future__ import annotations

import csv
import hashlib
import html
import io
import json
import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from urllib.parse import parse_qs, urlencode
from zoneinfo import ZoneInfo

from .http import Request, Response, signed_in
from .routing import route
from .state import EmulatorState, Fault, KiteUser

IST = ZoneInfo("Asia/Kolkata")
BROKER = "kite"


def error(message: str, error_type: str, status: int) -> Response:
    return Response.json(
        {"status": "error", "message": message, "data": None, "error_type": error_type}, status
    )


def ok(data) -> Response:
    return Response.json({"status": "success", "data": data})


def fault_response(fault: Fault) -> Response:
    if fault.kind == "expired_token":
        return error("Incorrect `api_key` or `access_token`.", "TokenException", 403)
    if fault.kind == "rate_limit":
        return error("Too many requests", "NetworkException", 429)
    if fault.kind == "bad_gateway":
        return Response.text("<html><body>502 Bad Gateway</body></html>", 502, "text/html")
    return error("Something went wrong. Please try again.", "GeneralException", fault.status)


def stamp(moment: datetime | None) -> str | None:
    return moment.astimezone(IST).strftime("%Y-%m-%d %H:%M:%S") if moment else None


def authenticate(state: EmulatorState, request: Request) -> KiteUser | Response:
    if request.headers.get("x-kite-version") != "3":
        return error("Missing or invalid `X-Kite-Version` header.", "InputException", 400)
    header = request.headers.get("authorization", "")
    if not header.startswith("token ") or ":" not in header:
        return error("Incorrect `api_key` or `access_token`.", "TokenException", 403)
    api_key, access_token = header[6:].split(":", 1)
    owner = state.owner_of(access_token)
    if owner is None or not isinstance(owner, KiteUser) or owner.api_key != api_key:
        return error("Incorrect `api_key` or `access_token`.", "TokenException", 403)
    return owner


authed = signed_in(authenticate)  # a handler's third argument is the signed-in user


# --- Login -----------------------------------------------------

LOGIN_PAGE = """<!doctype html><html><head><title>Kite - Emulated login</title></head>
<body style="font-family:sans-serif;max-width:22rem;margin:3rem auto">
<h1>Kite (emulator)</h1><p>Sign in to authorise the app.</p>{hint}{error}
<form method="post" action="/connect/login">
<input type="hidden" name="api_key" value="{api_key}">
<input type="hidden" name="redirect_params" value="{redirect_params}">
<label>User ID <input name="user_id" autocomplete="username"></label><br>
<label>Password <input name="password" type="password"></label><br>
<button type="submit">Login</button></form></body></html>"""


def login_page(state, request, message=""):
    api_key = request.query.get("api_key", "")
    if api_key not in state.kite_users:
        return Response.text("Invalid `api_key`.", 400, "text/html")
    page = LOGIN_PAGE.format(
        api_key=html.escape(api_key),
        redirect_params=html.escape(request.query.get("redirect_params", "")),
        error=f'<p role="alert" style="color:#b00">{html.escape(message)}</p>' if message else "",
        hint=f"<p><em>{html.escape(state.login_hint)}</em></p>" if state.login_hint else "",
    )
    return Response.text(page, content_type="text/html; charset=utf-8")


def login_submit(state: EmulatorState, request: Request):
    form = request.form()
    user = state.kite_users.get(form.get("api_key", ""))
    if user is None:
        return Response.text("Invalid `api_key`.", 400, "text/html")
    if form.get("user_id") != user.user_id or form.get("password") != user.password:
        request.query = {
            "api_key": user.api_key,
            "redirect_params": form.get("redirect_params", ""),
        }
        return login_page(state, request, "Invalid user ID or password.")
    request_token = state.issue(user, kind="request", lifetime=timedelta(minutes=5))
    params = {
        "action": "login",
        "type": "login",
        "status": "success",
        "request_token": request_token,
    }
    extra = {k: v[-1] for k, v in parse_qs(form.get("redirect_params", "")).items()}
    query = urlencode({**params, **extra})
    separator = "&" if "?" in user.redirect_url else "?"
    return Response.redirect(f"{user.redirect_url}{separator}{query}")


def session_token(state: EmulatorState, request: Request):
    form = request.form()
    user = state.kite_users.get(form.get("api_key", ""))
    token = form.get("request_token", "")
    if user is None:
        return error("Invalid `api_key`.", "InputException", 400)
    expected = hashlib.sha256((user.api_key + token + user.api_secret).encode()).hexdigest()
    if form.get("checksum") != expected:
        return error("Invalid `checksum`.", "TokenException", 403)
    if state.owner_of(token, kind="request") is not user:
        return error("Token is invalid or has expired.", "TokenException", 403)
    state.revoke(token)  # a request token works once
    access_token = state.issue(user)
    return ok(
        {
            "user_type": "individual",
            "email": user.email,
            "user_name": user.name,
            "user_shortname": user.name.split()[0],
            "broker": "ZERODHA",
            "exchanges": ["NSE", "NFO", "BSE"],
            "products": ["CNC", "NRML", "MIS", "BO", "CO"],
            "order_types": ["MARKET", "LIMIT", "SL", "SL-M"],
            "avatar_url": None,
            "user_id": user.user_id,
            "api_key": user.api_key,
            "access_token": access_token,
            "public_token": state.issue(user, kind="public"),
            "refresh_token": "",
            "login_time": stamp(datetime.now(UTC)),
            "meta": {"demat_consent": "physical"},
        }
    )


def session_delete(state: EmulatorState, request: Request):
    state.revoke(request.query.get("access_token", ""))
    return ok(True)


# --- Reads -----------------------------------------------------


@authed
def profile(state, request, user):
    return ok(
        {
            "user_id": user.user_id,
            "user_type": "individual",
            "email": user.email,
            "user_name": user.name,
            "user_shortname": user.name.split()[0],
            "broker": "ZERODHA",
            "exchanges": ["NSE", "NFO", "BSE"],
            "products": ["CNC", "NRML", "MIS"],
            "order_types": ["MARKET", "LIMIT", "SL", "SL-M"],
            "avatar_url": None,
            "meta": {"demat_consent": "physical"},
        }
    )


def _equity_margins(user: KiteUser) -> dict:
    book = user.book
    return {
        "enabled": True,
        "net": book.cash - book.used_margin,
        "available": {
            "adhoc_margin": 0,
            "cash": book.cash,
            "opening_balance": book.cash,
            "live_balance": book.cash - book.used_margin,
            "collateral": 0,
            "intraday_payin": 0,
        },
        "utilised": {
            "debits": book.used_margin,
            "exposure": 0,
            "m2m_realised": 0,
            "m2m_unrealised": 0,
            "option_premium": 0,
            "payout": 0,
            "span": 0,
            "holding_sales": 0,
            "turnover": 0,
            "liquid_collateral": 0,
            "stock_collateral": 0,
            "delivery": 0,
        },
    }


@authed
def margins(state, request, user, segment=None):
    equity = _equity_margins(user)
    if segment == "equity":
        return ok(equity)
    commodity = {**equity, "enabled": False, "net": 0}
    return ok({"equity": equity, "commodity": commodity})


def _instruments_from(state, keys: list[str]):
    found = {}
    for key in keys:
        exchange, _, symbol = key.partition(":")
        inst = state.market.get(exchange, symbol)
        if inst is not None:
            found[key] = inst
    return found


@authed
def quote(state, request, user, mode="full"):
    keys = parse_qs(request.raw_query).get("i", [])
    if len(keys) > 500:
        return error("Too many instruments.", "InputException", 400)
    data = {}
    for key, inst in _instruments_from(state, keys).items():
        price = state.market.last_price(inst)
        close = state.market.close(inst)
        entry = {"instrument_token": inst.kite_token, "last_price": price}
        if mode in ("ohlc", "full"):
            entry["ohlc"] = {
                "open": close,
                "high": max(price, close),
                "low": min(price, close),
                "close": close,
            }
        if mode == "full":
            entry.update(
                {
                    "volume": 125000,
                    "net_change": price - close,
                    "timestamp": stamp(datetime.now(UTC)),
                    "last_trade_time": stamp(datetime.now(UTC)),
                }
            )
        data[key] = entry
    return ok(data)


def _order_json(order) -> dict:
    return {
        "placed_by": "EMU",
        "order_id": order.order_id,
        "exchange_order_id": None if order.status == "REJECTED" else f"1{order.order_id}",
        "parent_order_id": None,
        "status": order.status,
        "status_message": order.status_message or None,
        "status_message_raw": order.status_message or None,
        "order_timestamp": stamp(order.placed_at),
        "exchange_update_timestamp": stamp(order.updated_at),
        "exchange_timestamp": stamp(order.updated_at),
        "variety": order.variety,
        "modified": order.updated_at != order.placed_at,
        "exchange": order.exchange,
        "tradingsymbol": order.symbol,
        "instrument_token": 0,
        "order_type": order.order_type,
        "transaction_type": order.side,
        "validity": order.validity,
        "product": order.product,
        "quantity": order.quantity,
        "disclosed_quantity": 0,
        "price": order.price,
        "trigger_price": order.trigger_price,
        "average_price": order.average_price,
        "filled_quantity": order.filled_quantity,
        "pending_quantity": 0
        if order.status in ("COMPLETE", "CANCELLED", "REJECTED")
        else order.quantity - order.filled_quantity,
        "cancelled_quantity": order.quantity - order.filled_quantity
        if order.status == "CANCELLED"
        else 0,
        "market_protection": 0,
        "meta": {},
        "tag": order.tag or None,
        "tags": [order.tag] if order.tag else None,
        "guid": f"emu-{order.order_id}",
    }


@authed
def orders(state, request, user):
    rows = [_order_json(o) for o in user.book.orders.values()]
    if not state.echo_order_tags:
        for row in rows:
            row["tag"] = row["tags"] = None
    return ok(rows)


@authed
def order_history(state, request, user, order_id):
    order = user.book.orders.get(order_id)
    if order is None:
        return error("Couldn't find that `order_id`.", "InputException", 400)
    return ok([_order_json(order)])


def _trade_json(fill) -> dict:
    return {
        "trade_id": fill.trade_id,
        "order_id": fill.order_id,
        "exchange": fill.exchange,
        "tradingsymbol": fill.symbol,
        "instrument_token": 0,
        "product": fill.product,
        "average_price": fill.price,
        "quantity": fill.quantity,
        "exchange_order_id": f"1{fill.order_id}",
        "transaction_type": fill.side,
        "fill_timestamp": stamp(fill.at),
        "order_timestamp": stamp(fill.at)[11:],
        "exchange_timestamp": stamp(fill.at),
    }


@authed
def trades(state, request, user):
    return ok([_trade_json(t) for t in user.book.trades])


@authed
def order_trades(state, request, user, order_id):
    return ok([_trade_json(t) for t in user.book.trades if t.order_id == order_id])


@authed
def holdings(state, request, user):
    rows = []
    for lot in user.book.holdings.values():
        inst = state.market.get(lot.exchange, lot.symbol)
        last, close = state.market.peek(inst), state.market.close(inst)
        rows.append(
            {
                "tradingsymbol": lot.symbol,
                "exchange": lot.exchange,
                "instrument_token": inst.kite_token,
                "isin": f"INE{inst.smart_token:0>6}01",
                "product": "CNC",
                "price": 0,
                "quantity": lot.quantity - lot.t1_quantity,
                "used_quantity": lot.used_quantity,
                "t1_quantity": lot.t1_quantity,
                "realised_quantity": lot.quantity - lot.t1_quantity,
                "authorised_quantity": 0,
                "authorised_date": None,
                "opening_quantity": lot.quantity,
                "collateral_quantity": 0,
                "collateral_type": "",
                "discrepancy": False,
                "average_price": lot.average_price,
                "last_price": last,
                "close_price": close,
                "pnl": (last - lot.average_price) * lot.quantity,
                "day_change": last - close,
                "day_change_percentage": float((last - close) / close * 100) if close else 0,
                "mtf": {
                    "quantity": lot.mtf_quantity,
                    "used_quantity": 0,
                    "average_price": lot.mtf_average_price,
                    "value": lot.mtf_average_price * lot.mtf_quantity,
                    "initial_margin": 0,
                },
            }
        )
    return ok(rows)


@authed
def positions(state, request, user):
    rows = []
    for pos in user.book.positions.values():
        inst = state.market.get(pos.exchange, pos.symbol)
        last, close = state.market.peek(inst), state.market.close(inst)
        buy_avg = pos.buy_value / pos.buy_quantity if pos.buy_quantity else Decimal(0)
        sell_avg = pos.sell_value / pos.sell_quantity if pos.sell_quantity else Decimal(0)
        pnl = pos.sell_value - pos.buy_value + pos.quantity * last
        rows.append(
            {
                "tradingsymbol": pos.symbol,
                "exchange": pos.exchange,
                "instrument_token": inst.kite_token,
                "product": pos.product,
                "quantity": pos.quantity,
                "overnight_quantity": 0,
                "multiplier": 1,
                "average_price": buy_avg if pos.quantity >= 0 else sell_avg,
                "close_price": close,
                "last_price": last,
                "value": pos.sell_value - pos.buy_value,
                "pnl": pnl,
                "m2m": pnl,
                "unrealised": pnl,
                "realised": 0,
                "buy_quantity": pos.buy_quantity,
                "buy_price": buy_avg,
                "buy_value": pos.buy_value,
                "buy_m2m": pos.buy_value,
                "sell_quantity": pos.sell_quantity,
                "sell_price": sell_avg,
                "sell_value": pos.sell_value,
                "sell_m2m": pos.sell_value,
                "day_buy_quantity": pos.buy_quantity,
                "day_buy_price": buy_avg,
                "day_buy_value": pos.buy_value,
                "day_sell_quantity": pos.sell_quantity,
                "day_sell_price": sell_avg,
                "day_sell_value": pos.sell_value,
            }
        )
    return ok({"net": rows, "day": rows})


# --- Orders -----------------------------------------------------

VARIETIES = {"regular", "amo", "co", "iceberg", "auction"}


def _decimal(value, name):
    try:
        return Decimal(value or "0")
    except InvalidOperation:
        raise ValueError(f"Invalid `{name}`.") from None


@authed
def place_order(state, request, user, variety):
    form = request.form()
    if variety not in VARIETIES:
        return error("Invalid `variety`.", "InputException", 400)
    if variety != "amo" and not state.market_is_open():  # Kite's closed-market refusal
        return error(
            "Markets are closed right now. Use GTT for placing long standing orders instead.",
            "InputException",
            400,
        )
    inst = state.market.get(form.get("exchange", ""), form.get("tradingsymbol", ""))
    if inst is None:
        return error("Invalid `tradingsymbol`.", "InputException", 400)
    if form.get("transaction_type") not in ("BUY", "SELL"):
        return error("Invalid `transaction_type`.", "InputException", 400)
    if form.get("order_type") not in ("MARKET", "LIMIT", "SL", "SL-M"):
        return error("Invalid `order_type`.", "InputException", 400)
    if form.get("product") not in ("CNC", "MIS", "NRML"):
        return error("Invalid `product`.", "InputException", 400)
    tag = form.get("tag", "")
    if tag and (len(tag) > 20 or not tag.isalnum()):
        return error("Invalid `tag`.", "InputException", 400)
    if not form.get("quantity", "").isdigit():
        return error("Invalid `quantity`.", "InputException", 400)
    quantity = int(form["quantity"])
    try:
        price = _decimal(form.get("price"), "price")
        trigger = _decimal(form.get("trigger_price"), "trigger_price")
    except ValueError as exc:
        return error(str(exc), "InputException", 400)
    if quantity <= 0 or quantity % inst.lot_size:
        return error("Quantity should be a multiple of lot size.", "InputException", 400)
    if form["order_type"] in ("LIMIT", "SL") and price <= 0:
        return error("Invalid `price`.", "InputException", 400)
    order = state.place(
        user.book,
        inst,
        side=form["transaction_type"],
        quantity=quantity,
        order_type=form["order_type"],
        product=form["product"],
        price=price,
        trigger_price=trigger,
        validity=form.get("validity", "DAY"),
        variety=variety,
        tag=tag,
    )
    return ok({"order_id": order.order_id})


@authed
def modify_order(state, request, user, variety, order_id):
    order = user.book.orders.get(order_id)
    if order is None:
        return error("Couldn't find that `order_id`.", "InputException", 400)
    form = request.form()
    changes = {
        "quantity": int(form["quantity"]) if form.get("quantity") else None,
        "price": Decimal(form["price"]) if form.get("price") else None,
        "trigger_price": Decimal(form["trigger_price"]) if form.get("trigger_price") else None,
        "order_type": form.get("order_type") or None,
    }
    if not state.modify(user.book, order, **changes):
        return error(
            f"Order cannot be modified as it is {order.status.lower()}.", "InputException", 400
        )
    return ok({"order_id": order.order_id})


@authed
def cancel_order(state, request, user, variety, order_id):
    order = user.book.orders.get(order_id)
    if order is None:
        return error("Couldn't find that `order_id`.", "InputException", 400)
    if not state.cancel(order):
        return error(
            f"Order cannot be cancelled as it is {order.status.lower()}.", "InputException", 400
        )
    return ok({"order_id": order.order_id})


@authed
def order_margins(state, request, user):
    rows = []
    for leg in request.json() if request.body else []:
        inst = state.market.get(leg.get("exchange", ""), leg.get("tradingsymbol", ""))
        if inst is None:
            return error("Invalid `tradingsymbol`.", "InputException", 400)
        price = Decimal(str(leg.get("price") or 0)) or state.market.peek(inst)
        value = price * int(leg.get("quantity", 0))
        factor = Decimal("0.2") if leg.get("product") == "MIS" else Decimal(1)
        total = (value * factor).quantize(Decimal("0.01"))
        rows.append(
            {
                "type": "equity",
                "tradingsymbol": inst.symbol,
                "exchange": inst.exchange,
                "span": 0,
                "exposure": 0,
                "option_premium": 0,
                "additional": 0,
                "bo": 0,
                "cash": 0,
                "var": total,
                "pnl": {"realised": 0, "unrealised": 0},
                "leverage": 1 / float(factor),
                "charges": _charges(value, leg),
                "total": total,
            }
        )
    return ok(rows)


def _charges(value: Decimal, leg: dict) -> dict:
    stt = (value * Decimal("0.001")).quantize(Decimal("0.01"))
    exchange = (value * Decimal("0.0000297")).quantize(Decimal("0.01"))
    sebi = (value * Decimal("0.000001")).quantize(Decimal("0.01"))
    stamp_duty = (
        (value * Decimal("0.00015")).quantize(Decimal("0.01"))
        if leg.get("transaction_type") == "BUY"
        else Decimal(0)
    )
    gst = ((exchange + sebi) * Decimal("0.18")).quantize(Decimal("0.01"))
    total = stt + exchange + sebi + stamp_duty + gst
    return {
        "transaction_tax": stt,
        "transaction_tax_type": "stt",
        "exchange_turnover_charge": exchange,
        "sebi_turnover_charge": sebi,
        "brokerage": 0,
        "stamp_duty": stamp_duty,
        "gst": {"igst": gst, "cgst": 0, "sgst": 0, "total": gst},
        "total": total,
    }


@authed
def charges_orders(state, request, user):
    rows = []
    for leg in request.json() if request.body else []:
        value = Decimal(str(leg.get("average_price", 0))) * int(leg.get("quantity", 0))
        rows.append(
            {
                "transaction_type": leg.get("transaction_type"),
                "tradingsymbol": leg.get("tradingsymbol"),
                "exchange": leg.get("exchange"),
                "variety": leg.get("variety"),
                "product": leg.get("product"),
                "order_type": leg.get("order_type"),
                "quantity": leg.get("quantity"),
                "price": leg.get("average_price"),
                "charges": _charges(value, leg),
            }
        )
    return ok(rows)


# --- Instruments -----------------------------------------------------

KITE_MASTER_COLUMNS = [  # the header of Kite's /instruments CSV, in its order
    "instrument_token",
    "exchange_token",
    "tradingsymbol",
    "name",
    "last_price",
    "expiry",
    "strike",
    "tick_size",
    "lot_size",
    "instrument_type",
    "segment",
    "exchange",
]


@authed
def instruments(state, request, user, exchange=None):
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(KITE_MASTER_COLUMNS)
    for inst in state.market.instruments.values():
        if exchange and inst.exchange != exchange:
            continue
        kind = inst.instrument_type
        writer.writerow(
            [
                inst.kite_token,
                inst.kite_token // 256,
                inst.name.upper() if kind == "INDEX" else inst.symbol,
                inst.name if kind in ("EQ", "INDEX") else inst.underlying,
                0.0,
                inst.expiry.isoformat() if inst.expiry else "",
                float(inst.strike or 0),
                float(inst.tick_size),
                inst.lot_size,
                "EQ" if kind == "INDEX" else kind,
                inst.segment,
                inst.exchange,
            ]
        )
    return Response.text(buffer.getvalue(), content_type="text/csv")


# --- GTT (good till triggered) -------------------------------------------------------


def _evaluate_gtts(state: EmulatorState, user: KiteUser) -> None:
    """Fire active GTTs whose condition the current price meets (like Kite's engine)."""
    for gtt in user.book.gtts.values():
        if gtt["status"] != "active":
            continue
        cond = gtt["condition"]
        inst = state.market.get(cond["exchange"], cond["tradingsymbol"])
        price = state.market.peek(inst)
        values = [Decimal(str(v)) for v in cond["trigger_values"]]
        leg = None
        if gtt["type"] == "single":
            above = values[0] >= Decimal(str(cond["last_price"]))
            if (above and price >= values[0]) or (not above and price <= values[0]):
                leg = 0
        elif price <= values[0]:
            leg = 0
        elif price >= values[1]:
            leg = 1
        if leg is None:
            continue
        spec = gtt["orders"][leg]
        now = stamp(datetime.now(UTC))
        reason = _outside_circuit(state.market.close(inst), Decimal(str(spec["price"])))
        if reason:  # Kite places nothing: the leg's result says why
            spec["result"] = {
                **_gtt_result_fields(user, cond, spec, price, now),
                "order_result": {"status": "failed", "order_id": "", "rejection_reason": reason},
            }
            gtt["status"], gtt["updated_at"] = "triggered", now
            continue
        order = state.place(
            user.book,
            inst,
            side=spec["transaction_type"],
            quantity=int(spec["quantity"]),
            order_type=spec["order_type"],
            product=spec["product"],
            price=Decimal(str(spec["price"])),
            trigger_price=Decimal(0),
            validity="DAY",
            variety="regular",
            tag="",
        )
        spec["result"] = {
            **_gtt_result_fields(user, cond, spec, price, now),
            "order_result": {"order_id": order.order_id, "status": "success"},
        }
        gtt["status"], gtt["updated_at"] = "triggered", now


CIRCUIT = Decimal("0.20")  # the emulated daily price band: previous close ± 20 %


def _outside_circuit(close: Decimal, limit: Decimal) -> str:
    """Kite's reason for a price outside the day's band, or ""."""
    lower, upper = close * (1 - CIRCUIT), close * (1 + CIRCUIT)
    if limit < lower:
        return (
            f"Your order price is lower than the current lower circuit limit of "
            f"{lower:.2f}. Place an order within the daily range."
        )
    if limit > upper:
        return (
            f"Your order price is higher than the current upper circuit limit of "
            f"{upper:.2f}. Place an order within the daily range."
        )
    return ""


def _gtt_result_fields(user, cond: dict, spec: dict, price: Decimal, now: str) -> dict:
    """The `result` of a fired leg as Kite shows it (tests/fixtures/kite/gtt_get_orders.json)."""
    return {
        "account_id": user.user_id,
        "exchange": cond["exchange"],
        "tradingsymbol": cond["tradingsymbol"],
        "validity": "DAY",
        "product": spec["product"],
        "order_type": spec["order_type"],
        "transaction_type": spec["transaction_type"],
        "quantity": spec["quantity"],
        "price": spec["price"],
        "meta": "",
        "timestamp": now,
        "triggered_at": float(price),
    }


@authed
def gtt_list(state, request, user):
    _evaluate_gtts(state, user)
    return ok(list(user.book.gtts.values()))


@authed
def gtt_get(state, request, user, trigger_id):
    _evaluate_gtts(state, user)
    gtt = user.book.gtts.get(int(trigger_id)) if trigger_id.isdigit() else None
    if gtt is None:
        return error("Invalid trigger ID.", "InputException", 400)
    return ok(gtt)


def _gtt_form(state, request):
    """A GTT's `type`, `condition` and `orders` from a place or modify form, checked the
    way Kite checks them: (kind, condition, orders) or an error Response."""
    form = request.form()
    try:
        condition, orders = json.loads(form["condition"]), json.loads(form["orders"])
    except (KeyError, ValueError):
        return error("Invalid `condition` or `orders`.", "InputException", 400)
    kind = form.get("type")
    if (
        kind not in ("single", "two-leg")
        or len(condition.get("trigger_values", [])) != (1 if kind == "single" else 2)
        or len(orders) != len(condition["trigger_values"])
    ):
        return error("Invalid trigger values or orders for this GTT type.", "InputException", 400)
    inst = state.market.get(condition.get("exchange", ""), condition.get("tradingsymbol", ""))
    if inst is None:
        return error("Invalid `tradingsymbol`.", "InputException", 400)
    if any(o.get("order_type") != "LIMIT" for o in orders):
        return error("GTT orders must be LIMIT orders.", "InputException", 400)
    condition = {**condition, "instrument_token": inst.kite_token}
    return kind, condition, [{**o, "result": None} for o in orders]


@authed
def gtt_place(state, request, user):
    checked = _gtt_form(state, request)
    if isinstance(checked, Response):
        return checked
    kind, condition, orders = checked
    trigger_id = int(state.next_id()) % 10_000_000
    now = datetime.now(UTC)
    user.book.gtts[trigger_id] = {
        "id": trigger_id,
        "user_id": user.user_id,
        "parent_trigger": None,
        "type": kind,
        "created_at": stamp(now),
        "updated_at": stamp(now),
        "expires_at": stamp(now + timedelta(days=365)),
        "status": "active",
        "condition": condition,
        "orders": orders,
        "meta": {},
    }
    return ok({"trigger_id": trigger_id})


@authed
def gtt_modify(state, request, user, trigger_id):
    """Kite's PUT /gtt/triggers/:id: the whole GTT replaced in place, its id kept; only
    an active one (the GTT engine runs first, so one the price already met has fired)."""
    _evaluate_gtts(state, user)
    gtt = user.book.gtts.get(int(trigger_id)) if trigger_id.isdigit() else None
    if gtt is None or gtt["status"] != "active":
        return error("Invalid trigger ID or trigger not active.", "InputException", 400)
    checked = _gtt_form(state, request)
    if isinstance(checked, Response):
        return checked
    gtt["type"], gtt["condition"], gtt["orders"] = checked
    gtt["updated_at"] = stamp(datetime.now(UTC))
    return ok({"trigger_id": int(trigger_id)})


@authed
def gtt_delete(state, request, user, trigger_id):
    gtt = user.book.gtts.get(int(trigger_id)) if trigger_id.isdigit() else None
    if gtt is None or gtt["status"] != "active":
        return error("Invalid trigger ID or trigger not active.", "InputException", 400)
    gtt["status"] = "deleted"
    return ok({"trigger_id": int(trigger_id)})


KITE_INTERVALS = {
    "minute": "1m",
    "3minute": "3m",
    "5minute": "5m",
    "10minute": "10m",
    "15minute": "15m",
    "30minute": "30m",
    "60minute": "1h",
    "day": "1d",
}


@authed
def historical(state, request, user, token, interval):
    from .history import IST, bar, bar_times

    inst = state.market.by_kite_token.get(int(token)) if token.isdigit() else None
    if inst is None:
        return error("Invalid `instrument_token`.", "InputException", 400)
    common = KITE_INTERVALS.get(interval)
    if common is None:
        return error("Invalid `interval`.", "InputException", 400)
    try:
        start = datetime.strptime(request.query.get("from", ""), "%Y-%m-%d %H:%M:%S").replace(
            tzinfo=IST
        )
        end = datetime.strptime(request.query.get("to", ""), "%Y-%m-%d %H:%M:%S").replace(
            tzinfo=IST
        )
    except ValueError:
        return error("Invalid `from` or `to` date.", "InputException", 400)
    base = state.market.close(inst)
    candles = []
    for moment in bar_times(common, start, end):
        o, h, low, c, v = bar(inst, base, common, moment)
        candles.append([moment.strftime("%Y-%m-%dT%H:%M:%S%z"), o, h, low, c, v])
    return ok({"candles": candles})


def routes():
    module = sys.modules[__name__]

    def r(operation, method, path, handler):
        return route(BROKER, module, operation, method, path, handler)

    return [
        r("login", "GET", "/connect/login", login_page),
        r("login", "POST", "/connect/login", login_submit),
        r("session", "POST", "/session/token", session_token),
        r("logout", "DELETE", "/session/token", session_delete),
        r("profile", "GET", "/user/profile", profile),
        r("funds", "GET", "/user/margins", margins),
        r("funds", "GET", "/user/margins/{segment}", margins),
        r("quote", "GET", "/quote", quote),
        r("quote", "GET", "/quote/ltp", lambda s, q: quote(s, q, mode="ltp")),
        r("quote", "GET", "/quote/ohlc", lambda s, q: quote(s, q, mode="ohlc")),
        r("orders", "GET", "/orders", orders),
        r("orders", "GET", "/orders/{order_id}", order_history),
        r("trades", "GET", "/orders/{order_id}/trades", order_trades),
        r("trades", "GET", "/trades", trades),
        r("place", "POST", "/orders/{variety}", place_order),
        r("modify", "PUT", "/orders/{variety}/{order_id}", modify_order),
        r("cancel", "DELETE", "/orders/{variety}/{order_id}", cancel_order),
        r("holdings", "GET", "/portfolio/holdings", holdings),
        r("positions", "GET", "/portfolio/positions", positions),
        r("margins", "POST", "/margins/orders", order_margins),
        r("charges", "POST", "/charges/orders", charges_orders),
        r("instruments", "GET", "/instruments", instruments),
        r("instruments", "GET", "/instruments/{exchange}", instruments),
        r("history", "GET", "/instruments/historical/{token}/{interval}", historical),
        r("gtt", "GET", "/gtt/triggers", gtt_list),
        r("gtt", "POST", "/gtt/triggers", gtt_place),
        r("gtt", "GET", "/gtt/triggers/{trigger_id}", gtt_get),
        r("gtt_modify", "PUT", "/gtt/triggers/{trigger_id}", gtt_modify),
        r("gtt", "DELETE", "/gtt/triggers/{trigger_id}", gtt_delete),
    ]
