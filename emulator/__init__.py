"""A local stand-in for the Kite Connect v3 and SmartAPI REST services.

The real client libraries talk to it over real HTTP: tests start it on a free
loopback port (`tests/conftest.py`), `python -m emulator` runs it for
`make demo`. It keeps per-account state in memory (orders with their tags,
holdings, positions, funds, moving prices), serves a Kite-like login page and
both instrument masters, and injects faults on request.
"""

from .app import EmulatorApp
from .server import EmulatorServer
from .state import EmulatorState, Fault, KiteUser, SmartUser

__all__ = ["EmulatorApp", "EmulatorServer", "EmulatorState", "Fault", "KiteUser", "SmartUser"]
