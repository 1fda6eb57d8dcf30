"""A fake VIP Reseller game-feature endpoint (type=get-nickname).

POST {base}/game-feature, form: key, sign = md5(API ID + API key), type=get-nickname, code,
target, additional_target.
- found:  {"result": true, "data": "<nickname>", "message": "Success."}
- failure: {"result": false, "data": null, "message": "<why>"} (HTTP 200)
The success shape is VIP's documented one; VIP publishes no failure examples, so the failure
wordings below are placeholders in VIP's style, and the adapter must not depend on them exactly.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections import Counter

from pytest_httpserver import HTTPServer
from werkzeug.wrappers import Request, Response

# game code -> whether it needs additional_target (zone / server)
GAMES = {
    "mobile-legends": True,
    "free-fire": False,
    "genshin-impact": True,
    "call-of-duty-mobile": False,
    "valorant": False,
}
BAD_KEY = "API Key atau Sign tidak valid."
NOT_FOUND = "Target tidak ditemukan."
NO_BALANCE = "Saldo anda tidak mencukupi."


class FakeVipReseller:
    """VIP Reseller as seen by our adapter: accounts, key/sign check, outages, slowness."""

    def __init__(
        self,
        httpserver: HTTPServer,
        api_id: str = "fakeVIPid",
        api_key: str = "fake-vip-api-key-0123456789",
    ):
        self.httpserver = httpserver
        self.api_id = api_id
        self.api_key = api_key
        self.accounts: dict[tuple[str, str, str], str] = {}
        self.lookups: Counter[tuple[str, str, str]] = Counter()
        self.received: list[dict[str, str]] = []  # form bodies, in arrival order
        self.down = False  # answer 500 with an HTML page
        self.garbage = False  # answer 200 with an HTML page
        self.delay = 0.0  # seconds to stall before answering (cut short by release())
        self.refusal: str | None = None  # refuse every authenticated lookup with this message
        self._released = threading.Event()
        httpserver.expect_request("/api/game-feature", method="POST").respond_with_handler(
            self._handle
        )

    @property
    def settings(self) -> dict[str, str]:
        """Settings that point our adapter at this fake with valid credentials."""
        return {
            "VIPRESELLER_API_ID": self.api_id,
            "VIPRESELLER_API_KEY": self.api_key,
            "VIPRESELLER_API_URL": self.httpserver.url_for("/api"),
        }

    def add_account(self, code: str, target: str, nickname: str, additional: str = "") -> None:
        """Make an account exist for game `code` (additional: its zone / server, if any)."""
        self.accounts[(code, target, additional)] = nickname

    def lookup_count(self, code: str, target: str, additional: str = "") -> int:
        """How many authenticated lookups reached this account."""
        return self.lookups[(code, target, additional)]

    def release(self) -> None:
        """End any stalled (slow) answer now; call at teardown."""
        self._released.set()

    def _handle(self, request: Request) -> Response:
        form = dict(request.form)
        self.received.append(form)
        if self.delay:
            self._released.wait(self.delay)
        if self.down:
            return Response("<h1>500 Internal Server Error</h1>", 500, content_type="text/html")
        if self.garbage:
            return Response("<html>Bad gateway</html>", 200, content_type="text/html")

        expected = hashlib.md5((self.api_id + self.api_key).encode()).hexdigest()
        key_ok = hmac.compare_digest(form.get("key", ""), self.api_key)
        if not (key_ok and hmac.compare_digest(form.get("sign", ""), expected)):
            return _refuse(BAD_KEY)
        if form.get("type") != "get-nickname":
            return _refuse("Type tidak valid.")
        code = form.get("code", "")
        if code not in GAMES:
            return _refuse("Kode game tidak ditemukan.")
        target, additional = form.get("target", ""), form.get("additional_target", "")
        if not target or (GAMES[code] and not additional):
            return _refuse("Permintaan tidak sesuai, target/additional_target wajib diisi.")
        if self.refusal is not None:
            return _refuse(self.refusal)

        self.lookups[(code, target, additional)] += 1
        nickname = self.accounts.get((code, target, additional))
        if nickname is None:
            return _refuse(NOT_FOUND)
        return _json({"result": True, "data": nickname, "message": "Success."})


def _refuse(message: str) -> Response:
    return _json({"result": False, "data": None, "message": message})


def _json(body: dict) -> Response:
    return Response(json.dumps(body), 200, content_type="application/json")
