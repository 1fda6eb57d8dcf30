"""A fake Fonnte send API (docs.fonnte.com/api-send-message) on a pytest-httpserver.

POST /send, form fields `target` (required), `message`, `countryCode` (replaces a leading 0;
"0" turns that off), the device token in the `Authorization` header. Every answer is JSON with
a boolean `status`: a wrong token is `{"status": false, "reason": "token invalid"}`; a send
is `{"status": true, "detail": "success! message in queue", "id": [...], "target": [...]}`.

Answers can be scripted, one per request, in `script`: "ok", "refuse" (`status: false`) or
"drop" (the message is recorded as gone out, then the connection is closed with no answer:
a lost answer). Once the script runs out, every request is "ok".
"""
from __future__ import annotations

import itertools
import json
import socket
import threading
from dataclasses import dataclass

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

TOKEN = "fonnte-device-token"


@dataclass(frozen=True)
class Sent:
    target: str
    message: str
    country_code: str
    answered: str          # ok, refuse, drop


class FakeFonnte:
    def __init__(self, server: HTTPServer):
        self.server = server
        self.requests: list[Sent] = []
        self.script: list[str] = []
        self._ids = itertools.count(80367170)
        self._lock = threading.Lock()
        server.expect_request("/send", method="POST").respond_with_handler(self._send)

    @property
    def url(self) -> str:
        return self.server.url_for("/send")

    @property
    def delivered(self) -> list[Sent]:
        """What reached the customer's WhatsApp: every send Fonnte took, answered or not."""
        return [sent for sent in self.requests if sent.answered != "refuse"]

    def _send(self, request: Request) -> Response:
        if request.headers.get("Authorization") != TOKEN:
            return _json({"status": False, "reason": "token invalid"})
        target = request.form.get("target", "")
        if not target:
            return _json({"status": False, "reason": "target invalid"})
        with self._lock:
            answer = self.script.pop(0) if self.script else "ok"
            self.requests.append(Sent(target, request.form.get("message", ""),
                                      request.form.get("countryCode", "62"), answer))
        if answer == "refuse":
            return _json({"status": False, "reason": "device disconnected"})
        if answer == "drop":
            request.environ["werkzeug.socket"].shutdown(socket.SHUT_RDWR)
            return Response(status=200)       # never reaches the client
        return _json({"status": True, "detail": "success! message in queue",
                      "id": [str(next(self._ids))], "process": "pending",
                      "target": [target]})


def _json(body: dict) -> Response:
    return Response(json.dumps(body), content_type="application/json")
