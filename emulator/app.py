"""The emulator's WSGI app: routes each request to the Kite or SmartAPI handlers,
after recording it and applying any injected fault."""

from __future__ import annotations

import logging
import traceback

from . import kite, smartapi
from .http import Request, Response
from .state import EmulatorState, sleep

logger = logging.getLogger(__name__)


class EmulatorApp:
    def __init__(self, state: EmulatorState | None = None):
        self.state = state or EmulatorState()
        self.routes = [*kite.routes(), *smartapi.routes()]

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
