"""A fake Apigames cek-username endpoint, built from https://docs.apigames.id/docs/cek-username.

GET /merchant/{merchant_id}/cek-username/{game_code}?user_id=...&signature=md5(merchant_id+secret)
- found:      {"status": 1, "rc": 0, "message": "Data Found",
               "data": {"is_valid": true, "username": "..."}, "ts": ...}
- not found:  {"status": 1, "rc": 0, "message": "Data Not Found",
               "data": {"is_valid": false, "username": ""}, "ts": ...}
- bad signature (the docs' error shape): {"status": 0, "error_msg": "Signature not valid"}
Mobile Legends has no zone parameter: the zone is appended to user_id.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
import time
from collections import Counter

from pytest_httpserver import HTTPServer
from werkzeug.wrappers import Request, Response

GAMES = ("mobilelegend", "freefire", "higgs")
PATH = re.compile(r"^/merchant/(?P<merchant>[^/]+)/cek-username/(?P<game>[^/]+)$")


class FakeApigames:
    """Apigames as seen by our adapter: accounts, signature check, outages, slowness."""

    def __init__(
        self,
        httpserver: HTTPServer,
        merchant_id: str = "M240101ABCDE1234XY",
        secret_key: str = "fake-apigames-secret",
    ):
        self.httpserver = httpserver
        self.merchant_id = merchant_id
        self.secret_key = secret_key
        self.accounts: dict[tuple[str, str], str] = {}
        self.lookups: Counter[tuple[str, str]] = Counter()
        self.received: list[dict[str, str]] = []  # query strings, in arrival order
        self.down = False  # answer 500 with an HTML page
        self.garbage = False  # answer 200 with an HTML page
        self.delay = 0.0  # seconds to stall before answering (cut short by release())
        self.error_msg: str | None = None  # answer {"status": 0, "error_msg": ...} instead
        self._released = threading.Event()
        httpserver.expect_request(PATH, method="GET").respond_with_handler(self._handle)

    @property
    def settings(self) -> dict[str, str]:
        """Settings that point our adapter at this fake with valid credentials."""
        return {
            "APIGAMES_MERCHANT_ID": self.merchant_id,
            "APIGAMES_SECRET_KEY": self.secret_key,
            "APIGAMES_API_URL": self.httpserver.url_for("/").rstrip("/"),
        }

    def add_account(self, game: str, user_id: str, nickname: str, zone_id: str = "") -> None:
        """Make an account exist (Mobile Legends: user id and zone, as Apigames joins them)."""
        self.accounts[(game, user_id + zone_id)] = nickname

    def lookup_count(self, game: str, user_id: str, zone_id: str = "") -> int:
        """How many authenticated lookups reached this account."""
        return self.lookups[(game, user_id + zone_id)]

    def release(self) -> None:
        """End any stalled (slow) answer now; call at teardown."""
        self._released.set()

    def _handle(self, request: Request) -> Response:
        self.received.append(dict(request.args))
        if self.delay:
            self._released.wait(self.delay)
        if self.down:
            return Response("<h1>500 Internal Server Error</h1>", 500, content_type="text/html")
        if self.garbage:
            return Response("<html>Bad gateway</html>", 200, content_type="text/html")

        match = PATH.match(request.path)
        assert match is not None
        merchant, game = match["merchant"], match["game"]
        expected = hashlib.md5((self.merchant_id + self.secret_key).encode()).hexdigest()
        given = request.args.get("signature", "")
        if merchant != self.merchant_id or not hmac.compare_digest(given, expected):
            return _json({"status": 0, "error_msg": "Signature not valid"})
        if self.error_msg is not None:
            return _json({"status": 0, "rc": 2, "error_msg": self.error_msg})
        if game not in GAMES:
            return _json({"status": 0, "rc": 2, "error_msg": "Game code not valid"})

        user_id = request.args.get("user_id", "")
        self.lookups[(game, user_id)] += 1
        nickname = self.accounts.get((game, user_id))
        if nickname is None:
            data, message = {"is_valid": False, "username": ""}, "Data Not Found"
        else:
            data, message = {"is_valid": True, "username": nickname}, "Data Found"
        ts = int(time.time())
        return _json({"status": 1, "rc": 0, "message": message, "data": data, "ts": ts})


def _json(body: dict) -> Response:
    return Response(json.dumps(body), 200, content_type="application/json")
