"""A fake Telegram Bot API (core.telegram.org/bots/api) on a pytest-httpserver.

POST /bot<TOKEN>/<method> with a JSON body. Every answer is {"ok": true, "result": ...}, or
{"ok": false, "error_code": N, "description": "..."} (a wrong token: 401 Unauthorized; flood
control: 429 with "parameters": {"retry_after": N}). Methods: getMe, sendMessage (chat_id,
text), getUpdates (offset acknowledges earlier updates; only those at or after it are given),
setWebhook, deleteWebhook.

`script` holds answers for the next sendMessage calls, one each: "ok", ("429", seconds),
"500" (a server error, not sent), "403" (the bot was blocked by the user), "drop" (the
message goes out, then the connection is closed with no answer: a lost answer). Once it runs out,
every send is "ok". `down`: every call answers 502 with an HTML page (a proxy in front).
"""
from __future__ import annotations

import itertools
import json
import socket
import threading
from dataclasses import dataclass

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

TOKEN = "123456:ABC-fake-bot-token"
BOT_USERNAME = "merchant_alerts_bot"


@dataclass(frozen=True)
class Sent:
    chat_id: int
    text: str


class FakeTelegram:
    def __init__(self, server: HTTPServer):
        self.server = server
        self.sent: list[Sent] = []           # messages Telegram took
        self.calls: list[str] = []           # every method called, in order
        self.script: list = []
        self.down = False
        self.updates: list[dict] = []
        self.webhook: dict | None = None
        self._update_ids = itertools.count(700_000_001)
        self._message_ids = itertools.count(1)
        self._lock = threading.Lock()
        server.expect_request(f"/bot{TOKEN}/getMe").respond_with_handler(self._get_me)
        server.expect_request(f"/bot{TOKEN}/sendMessage").respond_with_handler(self._send)
        server.expect_request(f"/bot{TOKEN}/getUpdates").respond_with_handler(self._updates)
        server.expect_request(f"/bot{TOKEN}/setWebhook").respond_with_handler(self._set_webhook)
        server.expect_request(f"/bot{TOKEN}/deleteWebhook").respond_with_handler(
            self._delete_webhook)

    @property
    def api_url(self) -> str:
        return self.server.url_for("/").rstrip("/")

    def texts(self, chat_id: int | None = None) -> list[str]:
        return [s.text for s in self.sent if chat_id is None or s.chat_id == chat_id]

    def user_sends(self, text: str, chat_id: int = 5550001, user_id: int = 5550001,
                   chat_type: str = "private", username: str = "toko_owner") -> dict:
        """The owner types `text` to the bot: an update waits for getUpdates."""
        update = {"update_id": next(self._update_ids), "message": {
            "message_id": next(self._message_ids), "date": 1_765_000_000, "text": text,
            "from": {"id": user_id, "is_bot": False, "first_name": "Dewi"},
            "chat": {"id": chat_id, "type": chat_type, "username": username}}}
        with self._lock:
            self.updates.append(update)
        return update

    def _call(self, request: Request, method: str) -> dict | Response:
        with self._lock:
            self.calls.append(method)
        if self.down:
            return Response("<html>502 Bad Gateway</html>", status=502, content_type="text/html")
        try:
            return json.loads(request.get_data() or b"{}")
        except ValueError:
            return _error(400, "Bad Request: can't parse JSON")

    def _get_me(self, request: Request) -> Response:
        body = self._call(request, "getMe")
        if isinstance(body, Response):
            return body
        return _ok({"id": 123456, "is_bot": True, "first_name": "Merchant alerts",
                    "username": BOT_USERNAME})

    def _send(self, request: Request) -> Response:
        body = self._call(request, "sendMessage")
        if isinstance(body, Response):
            return body
        if not isinstance(body.get("chat_id"), int | str) or not body.get("text"):
            return _error(400, "Bad Request: message text is empty")
        with self._lock:
            answer = self.script.pop(0) if self.script else "ok"
        if isinstance(answer, tuple) and answer[0] == "429":
            return _error(429, f"Too Many Requests: retry after {answer[1]}",
                          {"retry_after": answer[1]})
        if answer == "500":
            return _error(500, "Internal Server Error")
        if answer == "403":
            return _error(403, "Forbidden: bot was blocked by the user")
        with self._lock:
            self.sent.append(Sent(int(body["chat_id"]), body["text"]))
        if answer == "drop":
            request.environ["werkzeug.socket"].shutdown(socket.SHUT_RDWR)
            return Response(status=200)           # never reaches the client
        return _ok({"message_id": next(self._message_ids), "date": 1_765_000_000,
                    "chat": {"id": int(body["chat_id"]), "type": "private"},
                    "text": body["text"]})

    def _updates(self, request: Request) -> Response:
        body = self._call(request, "getUpdates")
        if isinstance(body, Response):
            return body
        if self.webhook is not None:
            return _error(409, "Conflict: can't use getUpdates method while webhook is active; "
                               "use deleteWebhook to delete the webhook first")
        offset = int(body.get("offset") or 0)
        with self._lock:
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
            return _ok(list(self.updates[:int(body.get("limit") or 100)]))

    def _set_webhook(self, request: Request) -> Response:
        body = self._call(request, "setWebhook")
        if isinstance(body, Response):
            return body
        self.webhook = body
        return _ok(True)

    def _delete_webhook(self, request: Request) -> Response:
        self._call(request, "deleteWebhook")
        self.webhook = None
        return _ok(True)


def _ok(result) -> Response:
    return Response(json.dumps({"ok": True, "result": result}), content_type="application/json")


def _error(code: int, description: str, parameters: dict | None = None) -> Response:
    body = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return Response(json.dumps(body), status=code, content_type="application/json")
