"""Run the broker emulator (Kite Connect v3 + SmartAPI) on a loopback port:
`python -m emulator --port 8100 [--demo] [--market open|closed|exchange]`.

A tool beside the app, like bench/: it needs neither Django nor the database.
"""

from __future__ import annotations

import argparse

import pyotp

from . import EmulatorServer, EmulatorState
from .demo import KITE, SMART, demo_state


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m emulator",
        description="Serve the broker emulator; --demo adds the demo users `make demo` uses.",
    )
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--demo", action="store_true", help="add the demo users and holdings")
    parser.add_argument(
        "--market",
        choices=["open", "closed", "exchange"],
        default="open",
        help="the emulated market's clock: always open (default, the demo), "
        "closed (regular orders refused, AMO accepted) or real NSE hours",
    )
    parser.add_argument(
        "--app-url",
        default="http://127.0.0.1:8000",
        help="where the emulated Kite login redirects back to",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    state = demo_state(args.app_url.rstrip("/")) if args.demo else EmulatorState()
    state.set_market(args.market)
    server = EmulatorServer(state, host=args.host, port=args.port)
    print(f"broker emulator on {server.url} (market: {args.market})", flush=True)
    if args.demo:
        print(
            f"  Kite login: user ID {KITE['user_id']}, password {KITE['password']}\n"
            f"  SmartAPI: client code {SMART['client_code']}, PIN {SMART['pin']}, "
            f"TOTP now {pyotp.TOTP(SMART['totp_secret']).now()}",
            flush=True,
        )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.httpd.server_close()


if __name__ == "__main__":
    main()
