"""The demo world: one Kite and one SmartAPI user with a few holdings, used by
`python -m emulator --demo` and `manage.py demo_setup` (`make demo`)."""

from decimal import Decimal

from .market import Market
from .state import EmulatorState, KiteUser, SmartUser

KITE = {
    "api_key": "demo_kite_key",
    "api_secret": "demo_kite_secret",
    "user_id": "DM1234",
    "password": "demo",
}
SMART = {
    "api_key": "demo_smart_key",
    "client_code": "D12345",
    "pin": "1234",
    "totp_secret": "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
}
SEED_HOLDINGS = [("SBIN", 40), ("INFY", 12), ("ITC", 150), ("RELIANCE", 5)]


def demo_state(app_url: str) -> EmulatorState:
    state = EmulatorState(market=Market())
    kite = state.add_kite_user(
        KiteUser(**KITE, redirect_url=f"{app_url}/brokers/zerodha/callback/", name="Demo Trader")
    )
    smart = state.add_smart_user(SmartUser(**SMART, name="Demo Trader"))
    state.login_hint = f"Demo login: user ID {KITE['user_id']}, password {KITE['password']}"
    for user in (kite, smart):
        for symbol, quantity in SEED_HOLDINGS:
            inst = state.market.get("NSE", symbol)
            state.place(
                user.book,
                inst,
                side="BUY",
                quantity=quantity,
                order_type="MARKET",
                product="CNC",
                price=Decimal(0),
                trigger_price=Decimal(0),
                validity="DAY",
                variety="regular",
                tag="DEMOSEED",
            )
    # Bought two days ago: delivered holdings, no day positions (nothing counted twice).
    state.settle()
    state.settle()
    return state
