"""The emulator's WSGI app: routes each request to the handlers of the broker API
it belongs to, after recording it and applying any injected fault.

A broker API is a module of this package with a `routes()` function (kite.py,
smartapi.py); a new one is found by that alone."""

from __future__ import annotations

import importlib
import logging
import pkgutil
import traceback

from .http import Request, Response
from .state import EmulatorState, sleep

logger = logging.getLogger(__name__)


def broker_apis() -> list:
    """The modules of this package that emulate a broker API (they define `routes()`)."""
    found = []
    for info in pkgutil.iter_modules(_package_path()):
        if info.name.startswith("_") or info.ispkg:
            continue
        module = importlib.import_module(f"{__package__}.{info.name}")
        if callable(getattr(module, "routes", None)):
            found.append(module)
    return found


def _package_path():
    return importlib.import_module(__package__).__path__


class EmulatorApp:
    def __init__(self, state: EmulatorState | None = None):
        self.state = state or EmulatorState()
        self.routes = [route for api in broker_apis() for route in api.routes()]

    def __call__(self, environ, start_response):
        request = Request.from_environ(environ)
        try:
            response = self.dispatch(request)
        except Exception:  # an emulator bug must show, not hang the client
            logger.error("emulator error:\n%s", traceback.format_exc())
            response = Response.text("emulator error", 500)
        return response.start(start_response)

    def dispatch(self, request: Request) -> Response:
        for route in self.routes:
            params = route.match(request.method, request.path)
            if params is None:
                continue
            self.state.record(route.broker, route.operation, request.path)
            fault = self.state.take_fault(route.broker, route.operation)
            if fault and fault.kind in ("latency", "timeout"):
                sleep(fault.seconds)
                if fault.kind == "timeout":
                    return Response.text("", 504)
                fault = None
            if fault and fault.kind != "drop_after_accept":
                return route.module.fault_response(fault)
            response = route.handler(self.state, request, **params)
            if fault:  # drop_after_accept: the work is done, the answer comes too late
                sleep(fault.seconds)
            return response
        return Response.json({"status": "error", "message": "Route not found"}, 404)
