from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType


@dataclass
class Route:
    broker: str
    operation: str
    method: str
    pattern: re.Pattern
    handler: Callable
    module: ModuleType

    def match(self, method: str, path: str) -> dict | None:
        if method != self.method:
            return None
        found = self.pattern.fullmatch(path.rstrip("/") or "/")
        return found.groupdict() if found else None


def route(broker, module, operation, method, path, handler) -> Route:
    regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", path.rstrip("/") or "/")
    return Route(broker, operation, method, re.compile(regex), handler, module)
