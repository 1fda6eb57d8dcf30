"""A fake VIP Reseller API: POST /api/game-feature (get-nickname, order, status, services) and
POST /api/profile, built from VIP's documented request and answer shapes (CONTRACTS.md section 1).

Supplier side: `type=order` (service, data_no, data_zone) creates an order numbered by VIP
(`trxid`) and answers it `waiting` with `price` and the `balance` left; VIP takes no reference of
ours, so sending the same order again buys again (counted in `purchases`). It is refused,
`result: false`, for a bad key/sign, an unknown or `empty` service, a missing target and a
balance below the price. `type=status` reads one order by trxid (a list of one) or, with
`limit`, the latest orders; `type=services` lists the services with member-tier prices;
`profile` gives the balance. `callback(trxid)` builds a callback with the static
X-Client-Signature = md5(API ID + API key). Outcomes are scripted per data_no (`script`).

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
from dataclasses import dataclass

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
NO_SERVICE = "Layanan tidak ditemukan."
SERVICE_EMPTY = "Layanan sedang tidak tersedia."
NO_ORDER = "Transaksi tidak ditemukan."

SERVICES = [
    {"code": "MLB86-S1", "game": "Mobile Legends B", "name": "86 Diamonds",
     "price": {"basic": 19_800, "premium": 19_500, "special": 19_300}, "server": "SRV-1",
     "status": "available"},
    {"code": "FF100-S1", "game": "Free Fire", "name": "100 Diamonds",
     "price": {"basic": 14_200, "premium": 14_000, "special": 13_900}, "server": "SRV-1",
     "status": "empty"},
]


@dataclass
class Outcome:
    """What a new order for one data_no does: "success" (success at the first status read),
    "pending" (waiting until complete()/fail()), "fail" (error at the first read, with `note`),
    "partial", "timeout" (made, but answered only after `slow_seconds`), "down" (HTTP 500 after
    the order was made)."""
    kind: str = "success"
    note: str = ""


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
        self.balance = 1_000_000
        self.level = "basic"
        self.slow_seconds = 2.0
        self.services = {row["code"]: json.loads(json.dumps(row)) for row in SERVICES}
        self.orders: dict[str, dict] = {}          # trxid -> order, oldest first
        self.purchases: Counter[tuple[str, str, str]] = Counter()  # (service, data_no, zone)
        self.order_calls = 0
        self.status_calls = 0
        self.outcomes: dict[str, Outcome] = {}
        self._lock = threading.RLock()
        httpserver.expect_request("/api/game-feature", method="POST").respond_with_handler(
            self._handle
        )
        httpserver.expect_request("/api/profile", method="POST").respond_with_handler(
            self._profile
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

    # ---- supplier controls ----------------------------------------------------------------
    def script(self, data_no: str, kind: str = "success", **kwargs) -> None:
        self.outcomes[data_no] = Outcome(kind, **kwargs)

    def complete(self, trxid: str, note: str = "") -> None:
        with self._lock:
            self.orders[trxid].update(status="success", note=note or f"SN-{trxid}")

    def fail(self, trxid: str, note: str = "Zone tujuan salah.") -> None:
        with self._lock:
            order = self.orders[trxid]
            if order["status"] in ("waiting", "processing"):
                self.balance += order["price"]      # a failed order is refunded
            order.update(status="error", note=note)

    def trxids(self, data_no: str) -> list[str]:
        return [t for t, order in self.orders.items() if order["data"] == data_no]

    def callback(self, trxid: str, form: bool = False) -> tuple[bytes, dict]:
        """A status callback for the order's current state: (raw body, headers)."""
        row = self._public(self.orders[trxid])
        if form:
            body = "&".join(f"data[{k}]={v}" for k, v in row.items()).encode()
            kind = "application/x-www-form-urlencoded"
        else:
            body, kind = json.dumps({"data": row}).encode(), "application/json"
        return body, {"X-Client-Signature": self.sign, "Content-Type": kind}

    @property
    def sign(self) -> str:
        return hashlib.md5((self.api_id + self.api_key).encode()).hexdigest()

    # ---- vendor behaviour -----------------------------------------------------------------
    def _authorised(self, form: dict) -> bool:
        key_ok = hmac.compare_digest(form.get("key", ""), self.api_key)
        return key_ok and hmac.compare_digest(form.get("sign", ""), self.sign)

    def _profile(self, request: Request) -> Response:
        if self.down:
            return Response("<h1>500 Internal Server Error</h1>", 500, content_type="text/html")
        if not self._authorised(dict(request.form)):
            return _refuse(BAD_KEY)
        return _json({"result": True, "data": {
            "full_name": "Fake Reseller", "username": "fakevip", "balance": self.balance,
            "point": 0, "level": self.level.title()},
            "message": "Successfully got your account details."})

    def _order(self, form: dict) -> Response:
        service, data_no = form.get("service", ""), form.get("data_no", "")
        zone = form.get("data_zone", "")
        outcome = self.outcomes.get(data_no) or Outcome()
        with self._lock:
            self.order_calls += 1
            item = self.services.get(service)
            if item is None:
                return _refuse(NO_SERVICE)
            if item["status"] != "available":
                return _refuse(SERVICE_EMPTY)
            if not data_no:
                return _refuse("Data tujuan tidak sesuai.")
            price = item["price"][self.level]
            if self.balance < price:
                return _refuse(NO_BALANCE)
            self.balance -= price
            trxid = f"VIP{len(self.orders) + 1:06d}"
            self.orders[trxid] = {"trxid": trxid, "data": data_no, "zone": zone,
                                  "service": f"{item['game']} - {item['name']}",
                                  "code": service, "status": "waiting", "note": "",
                                  "price": price, "outcome": outcome}
            self.purchases[(service, data_no, zone)] += 1
            answer = {**self._public(self.orders[trxid]), "balance": self.balance}
        if outcome.kind == "down":
            return Response("<h1>502 Bad Gateway</h1>", 502, content_type="text/html")
        if outcome.kind == "timeout":
            self._released.wait(self.slow_seconds)
        return _json({"result": True, "data": answer,
                      "message": "Pesanan berhasil, pesanan akan diproses."})

    def _advance(self, order: dict) -> None:
        """A status read moves a scripted order on (the seller finished it meanwhile)."""
        if order["status"] != "waiting":
            return
        kind = order["outcome"].kind
        if kind in ("success", "timeout", "down"):
            order.update(status="success", note=order["outcome"].note or f"SN-{order['trxid']}")
        elif kind == "fail":
            self.balance += order["price"]
            order.update(status="error", note=order["outcome"].note or "Zone tujuan salah.")
        elif kind == "partial":
            order.update(status="partial", note="5 dari 15 diamonds terkirim")
        elif kind == "pending":
            order.update(status="processing")

    def _status(self, form: dict) -> Response:
        with self._lock:
            self.status_calls += 1
            trxid = form.get("trxid")
            if trxid:
                order = self.orders.get(trxid)
                if order is None:
                    return _refuse(NO_ORDER)
                self._advance(order)
                rows = [self._public(order)]
            else:
                limit = int(form.get("limit") or 10)
                latest = list(self.orders.values())[::-1][:limit]
                for order in latest:
                    self._advance(order)
                rows = [self._public(order) for order in latest]
        return _json({"result": True, "data": rows,
                      "message": "Detail transaksi berhasil didapatkan."})

    def _services(self, form: dict) -> Response:
        rows = list(self.services.values())
        if form.get("filter_type") == "game" and form.get("filter_value"):
            rows = [r for r in rows if r["game"].lower() == form["filter_value"].lower()]
        if form.get("filter_status"):
            rows = [r for r in rows if r["status"] == form["filter_status"]]
        return _json({"result": True, "data": rows,
                      "message": "Daftar layanan berhasil didapatkan."})

    @staticmethod
    def _public(order: dict) -> dict:
        return {k: order[k] for k in ("trxid", "data", "zone", "service", "status", "note",
                                      "price")}

    def _handle(self, request: Request) -> Response:
        form = dict(request.form)
        self.received.append(form)
        if self.delay:
            self._released.wait(self.delay)
        if self.down:
            return Response("<h1>500 Internal Server Error</h1>", 500, content_type="text/html")
        if self.garbage:
            return Response("<html>Bad gateway</html>", 200, content_type="text/html")

        if not self._authorised(form):
            return _refuse(BAD_KEY)
        supplier_calls = {"order": self._order, "status": self._status,
                          "services": self._services}
        if form.get("type") in supplier_calls:
            return supplier_calls[form["type"]](form)
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
