"""Just enough WSGI request/response handling for the emulator."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from http import HTTPStatus
from urllib.parse import parse_qs, unquote_plus


class EmulatorJSONEncoder(json.JSONEncoder):
    def default(self, o):
        if isinstance(o, Decimal):
            return float(o)
        return super().default(o)


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    raw_query: str = ""

    @classmethod
    def from_environ(cls, environ) -> Request:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        headers = {
            key[5:].replace("_", "-").lower(): value
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        if environ.get("CONTENT_TYPE"):
            headers["content-type"] = environ["CONTENT_TYPE"]
        query = {k: v[-1] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        return cls(
            environ["REQUEST_METHOD"],
            environ.get("PATH_INFO", "/"),
            query,
            headers,
            body,
            environ.get("QUERY_STRING", ""),
        )

    def form(self) -> dict[str, str]:
        return {k: v[-1] for k, v in parse_qs(self.body.decode("utf-8")).items()}

    def json(self) -> dict:
        if not self.body:
            return {}
        return json.loads(self.body.decode("utf-8"))

    def query_json(self) -> dict:
        """SmartAPI's client sends GET parameters as one JSON-encoded query string."""
        raw = unquote_plus(self.raw_query)
        try:
            return json.loads(raw) if raw.startswith("{") else {}
        except ValueError:
            return {}


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    headers: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def json(cls, payload, status: int = 200) -> Response:
        return cls(status, json.dumps(payload, cls=EmulatorJSONEncoder).encode("utf-8"))

    @classmethod
    def text(cls, text: str, status: int = 200, content_type="text/plain") -> Response:
        return cls(status, text.encode("utf-8"), content_type)

    @classmethod
    def redirect(cls, location: str) -> Response:
        return cls(302, b"", "text/html", [("Location", location)])

    def start(self, start_response):
        phrase = HTTPStatus(self.status).phrase
        headers = [("Content-Type", self.content_type), ("Content-Length", str(len(self.body)))]
        start_response(f"{self.status} {phrase}", headers + self.headers)
        return [self.body]


def signed_in(authenticate: Callable):
    """A decorator factory: the handler runs with the user `authenticate(state, request)`
    returns, or the error Response it returns instead is answered."""

    def authed(handler):
        def wrapper(state, request, **params):
            user = authenticate(state, request)
            if isinstance(user, Response):
                return user
            return handler(state, request, user, **params)

        return wrapper

    return authed
