"""A loopback stand-in for the Telegram Bot API: `/bot<token>/sendMessage`,
`/bot<token>/getUpdates` and `/bot<token>/getMe`, over real HTTP.

Like the broker emulator it is a tool beside the app (it imports nothing from
it). It checks what Telegram checks that matters here: the token, the
4,096-character limit and that HTML-formatted text parses (allowed tags only,
balanced, entities valid); and it injects faults on request: a 429 with
`retry_after`, a 5xx, or no answer in time (the message is then not delivered).
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qs
from wsgiref.simple_server import make_server

from .server import _QuietHandler, _ThreadingServer

LIMIT = 4096
ALLOWED_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "code", "pre", "a"}
_ROUTE = re.compile(r"^/bot(?P<token>[^/]+)/(?P<method>[A-Za-z]+)$")


@dataclass
class SentMessage:
    token: str
    chat_id: str
    text: str
    parse_mode: str
    at: float


@dataclass
class TelegramState:
    tokens: set[str] = field(default_factory=set)  # empty: any token "digits:letters"
    sent: list[SentMessage] = field(default_factory=list)
    updates: list[dict] = field(default_factory=list)
    faults: deque = field(default_factory=deque)  # (method, kind, value)
    calls: list[str] = field(default_factory=list)
    timeout_seconds: float = 3.0
    lock: threading.Lock = field(default_factory=threading.Lock)
    _next_update: int = 1000

    def fail(self, method: str, kind: str, value: float = 1, *, times: int = 1) -> None:
        """The next `times` calls of `method` answer with a fault: "429" (value:
        retry_after), "500", or "timeout" (no answer for `timeout_seconds`)."""
        with self.lock:
            for _ in range(times):
                self.faults.append((method, kind, value))

    def add_message(self, *, chat_id: int | str, text: str) -> int:
        """A user writes to the bot (getUpdates will return it)."""
        with self.lock:
            self._next_update += 1
            self.updates.append(
                {
                    "update_id": self._next_update,
                    "message": {
                        "message_id": self._next_update,
                        "date": int(time.time()),
                        "chat": {"id": int(chat_id), "type": "private"},
                        "text": text,
                    },
                }
            )
            return self._next_update

    def messages_to(self, chat_id) -> list[SentMessage]:
        with self.lock:
            return [m for m in self.sent if m.chat_id == str(chat_id)]

    def _fault_for(self, method: str):
        with self.lock:
            for fault in list(self.faults):
                if fault[0] == method:
                    self.faults.remove(fault)
                    return fault
        return None


class _HtmlCheck(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=False)
        self.stack: list[str] = []
        self.error = ""

    def handle_starttag(self, tag, attrs):
        if tag not in ALLOWED_TAGS:
            self.error = f'Unsupported start tag "{tag}"'
        self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.error = f'Unmatched end tag "{tag}"'
        else:
            self.stack.pop()

    def handle_entityref(self, name):
        if name not in ("lt", "gt", "amp", "quot"):
            self.error = f'Unsupported entity "&{name};"'


def html_error(text: str) -> str:
    """Telegram's complaint about HTML text, or "" when it parses."""
    if re.search(r"&(?![A-Za-z]+;|#\d+;|#x[0-9A-Fa-f]+;)", text):
        return "Can't parse entities: bare &"
    if re.search(r"<(?![A-Za-z/])", text):
        return "Can't parse entities: unsupported start tag"
    check = _HtmlCheck()
    check.feed(text)
    check.close()
    if check.error:
        return f"Can't parse entities: {check.error}"
    if check.stack:
        return f'Can\'t parse entities: no end tag for "{check.stack[-1]}"'
    return ""


class TelegramApp:
    def __init__(self, state: TelegramState | None = None):
        self.state = state or TelegramState()

    def __call__(self, environ, start_response):
        status, body = self.handle(environ)
        payload = json.dumps(body).encode()
        start_response(
            status, [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))]
        )
        return [payload]

    def _params(self, environ) -> dict:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b""
        kind = environ.get("CONTENT_TYPE", "")
        if "json" in kind:
            return json.loads(raw or b"{}")
        query = parse_qs(raw.decode() or environ.get("QUERY_STRING", ""))
        return {key: values[-1] for key, values in query.items()}

    def handle(self, environ):
        state = self.state
        match = _ROUTE.match(environ.get("PATH_INFO", ""))
        if not match:
            return "404 Not Found", {"ok": False, "error_code": 404, "description": "Not Found"}
        token, method = match["token"], match["method"]
        state.calls.append(method)
        valid = token in state.tokens if state.tokens else re.fullmatch(r"\d+:[\w-]+", token)
        if not valid:
            return "401 Unauthorized", {
                "ok": False,
                "error_code": 401,
                "description": "Unauthorized",
            }
        fault = state._fault_for(method)
        if fault:
            _, kind, value = fault
            if kind == "429":
                return "429 Too Many Requests", {
                    "ok": False,
                    "error_code": 429,
                    "description": f"Too Many Requests: retry after {int(value)}",
                    "parameters": {"retry_after": int(value)},
                }
            if kind == "timeout":
                time.sleep(state.timeout_seconds)
                return "504 Gateway Timeout", {
                    "ok": False,
                    "error_code": 504,
                    "description": "late",
                }
            return "502 Bad Gateway", {"ok": False, "error_code": 502, "description": "Bad Gateway"}
        params = self._params(environ)
        if method == "getMe":
            return "200 OK", {"ok": True, "result": {"id": 1, "is_bot": True, "username": "st_bot"}}
        if method == "sendMessage":
            return self._send(token, params)
        if method == "getUpdates":
            offset = int(params.get("offset") or 0)
            with state.lock:
                if offset:
                    state.updates = [u for u in state.updates if u["update_id"] >= offset]
                result = list(state.updates)
            return "200 OK", {"ok": True, "result": result}
        return "404 Not Found", {"ok": False, "error_code": 404, "description": "Not Found"}

    def _send(self, token: str, params: dict):
        text = str(params.get("text") or "")
        chat_id = str(params.get("chat_id") or "")
        bad = ""
        if not chat_id:
            bad = "Bad Request: chat_id is empty"
        elif not text.strip():
            bad = "Bad Request: message text is empty"
        elif len(text) > LIMIT:
            bad = "Bad Request: message is too long"
        elif str(params.get("parse_mode", "")).upper() == "HTML" and html_error(text):
            bad = "Bad Request: " + html_error(text)
        if bad:
            return "400 Bad Request", {"ok": False, "error_code": 400, "description": bad}
        with self.state.lock:
            self.state.sent.append(
                SentMessage(token, chat_id, text, str(params.get("parse_mode", "")), time.time())
            )
            message_id = len(self.state.sent)
        return "200 OK", {
            "ok": True,
            "result": {"message_id": message_id, "chat": {"id": int(chat_id)}, "text": text},
        }


class TelegramServer:
    """The Bot API emulator on a loopback port, in a background thread."""

    def __init__(self, state: TelegramState | None = None, *, host="127.0.0.1", port=0):
        self.app = TelegramApp(state)
        self.httpd = make_server(
            host, port, self.app, server_class=_ThreadingServer, handler_class=_QuietHandler
        )
        self._thread: threading.Thread | None = None

    @property
    def state(self) -> TelegramState:
        return self.app.state

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> TelegramServer:
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, name="telegram-emulator", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        if self._thread:
            self._thread.join(timeout=5)
