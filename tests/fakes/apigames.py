"""A fake Apigames cek-username endpoint, built from https://docs.apigames.id/docs/cek-username.

GET /merchant/{merchant_id}/cek-username/{game_code}?user_id=...&signature=md5(merchant_id+secret)
- found:      {"status": 1, "rc": 0, "message": "Data Found",
               "data": {"is_valid": true, "username": "..."}, "ts": ...}
- not found:  {"status": 1, "rc": 0, "message": "Data Not Found",
               "data": {"is_valid": false, "username": ""}, "ts": ...}
- bad signature (the docs' error shape): {"status": 0, "error_msg": "Signature not valid"}
Mobile Legends has no zone parameter: the zone is appended to user_id.

Supplier side (docs/v2, docs/info-akun): POST /v2/transaksi {ref_id, merchant_id, produk,
tujuan, server_id, signature = md5(merchant_id:secret_key:ref_id)} answers every new order
Pending (the docs' flow) with the price taken from `saldo`; a ref_id already used answers the
existing transaction and buys nothing (counted in `order_calls`, bought in `purchases`). Errors
are {"status": 0, "error_msg": ...}: bad signature, unknown product, balance too low. POST
/v2/transaksi/status {merchant_id, ref_id, signature} reads one (an unknown ref_id:
"Transaksi tidak ditemukan"). GET /merchant/{merchant_id}?signature=md5(merchant_id+secret) is
the account with its saldo. `webhook(ref_id)` builds the signed webhook. Outcomes are scripted
per tujuan (`script`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass

from pytest_httpserver import HTTPServer
from werkzeug.wrappers import Request, Response

GAMES = ("mobilelegend", "freefire", "higgs")
PATH = re.compile(r"^/merchant/(?P<merchant>[^/]+)/cek-username/(?P<game>[^/]+)$")
ACCOUNT = re.compile(r"^/merchant/(?P<merchant>[^/]+)$")
# product code -> (name, price in rupiah, price in provider units, unit)
PRODUCTS = {
    "ML86": ("86 Diamond Mobile Legends", 19_000, 86, "diamond"),
    "FF5": ("5 Diamond Free Fire", 750, 3, "garena shell"),
}


@dataclass
class Outcome:
    """What a new order for one tujuan becomes at the first status read (or webhook):
    "success", "fail" (Gagal, `sn` the provider's reason), "partial" (Sukses Sebagian),
    "pending" (stays Pending until complete()/fail()), "timeout" (made, answered only after
    `slow_seconds`), "down" (made, then HTTP 500)."""
    kind: str = "success"
    sn: str = ""


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
        self.saldo = 1_000_000
        self.slow_seconds = 2.0
        self.transactions: dict[str, dict] = {}
        self.purchases: Counter[str] = Counter()
        self.order_calls: Counter[str] = Counter()
        self.status_calls: Counter[str] = Counter()
        self.outcomes: dict[str, Outcome] = {}
        self._lock = threading.RLock()
        httpserver.expect_request(PATH, method="GET").respond_with_handler(self._handle)
        httpserver.expect_request("/v2/transaksi", method="POST").respond_with_handler(
            self._order)
        httpserver.expect_request("/v2/transaksi/status", method="POST").respond_with_handler(
            self._status)
        httpserver.expect_request(ACCOUNT, method="GET").respond_with_handler(self._account)

    # ---- supplier controls ----------------------------------------------------------------
    def script(self, tujuan: str, kind: str = "success", **kwargs) -> None:
        self.outcomes[tujuan] = Outcome(kind, **kwargs)

    def complete(self, ref_id: str, sn: str = "") -> None:
        with self._lock:
            self.transactions[ref_id].update(status="Sukses", sn=sn or f"SN/{ref_id}")

    def fail(self, ref_id: str, sn: str = "error_require_login") -> None:
        with self._lock:
            txn = self.transactions[ref_id]
            self.saldo += txn["product_detail"]["price_rp"]
            txn.update(status="Gagal", sn=sn)

    def signature(self, ref_id: str) -> str:
        return hashlib.md5(f"{self.merchant_id}:{self.secret_key}:{ref_id}".encode()).hexdigest()

    def webhook(self, ref_id: str) -> tuple[bytes, dict]:
        """The webhook for the transaction's current state: (raw body, headers)."""
        body = json.dumps(self._public(self.transactions[ref_id])).encode()
        return body, {"X-Apigames-Authorization": self.signature(ref_id),
                      "Content-Type": "application/json"}

    # ---- supplier behaviour ---------------------------------------------------------------
    def _body(self, request: Request) -> dict:
        try:
            body = json.loads(request.get_data())
        except ValueError:
            return {}
        return body if isinstance(body, dict) else {}

    def _signed(self, body: dict) -> bool:
        ref_id = str(body.get("ref_id") or "")
        return body.get("merchant_id") == self.merchant_id and hmac.compare_digest(
            str(body.get("signature") or ""), self.signature(ref_id))

    def _public(self, txn: dict) -> dict:
        data = {k: v for k, v in txn.items() if k != "outcome"}
        data["message"] = (f"R#{txn['ref_id']} {txn['product_code']}.{txn['destination']}, "
                           f"status {txn['status'].upper()}. {txn['sn']}. Sisa saldo "
                           f"{txn['last_balance']}")
        return data

    def _order(self, request: Request) -> Response:
        body = self._body(request)
        if not self._signed(body):
            return _json({"status": 0, "error_msg": "Signature not valid"})
        ref_id, produk = str(body["ref_id"]), str(body.get("produk") or "")
        tujuan = str(body.get("tujuan") or "")
        with self._lock:
            self.order_calls[ref_id] += 1
            existing = self.transactions.get(ref_id)
            if existing is not None:
                return _json({"status": 1, "data": self._public(existing)})
            if produk not in PRODUCTS:
                return _json({"status": 0, "error_msg": "Produk tidak ditemukan"})
            if not tujuan:
                return _json({"status": 0, "error_msg": "Tujuan wajib diisi"})
            name, price, units, unit = PRODUCTS[produk]
            if self.saldo < price:
                return _json({"status": 0, "error_msg": "Saldo tidak mencukupi"})
            self.saldo -= price
            outcome = self.outcomes.get(tujuan) or Outcome()
            txn = {"merchant_id": self.merchant_id, "trx_id": f"T{len(self.transactions) + 1:08d}",
                   "ref_id": ref_id, "destination": tujuan + str(body.get("server_id") or ""),
                   "product_code": produk, "product_code_master": produk, "status": "Pending",
                   "sn": "", "last_balance": str(self.saldo),
                   "product_detail": {"name": name, "code": produk, "price": units,
                                      "price_unit": unit, "rate": price // units,
                                      "price_rp": price},
                   "outcome": outcome}
            self.transactions[ref_id] = txn
            self.purchases[ref_id] += 1
            answer = self._public(txn)
        if outcome.kind == "down":
            return Response("<h1>504 Gateway Timeout</h1>", 504, content_type="text/html")
        if outcome.kind == "timeout":
            self._released.wait(self.slow_seconds)
        return _json({"status": 1, "data": answer})

    def _status(self, request: Request) -> Response:
        body = self._body(request)
        if not self._signed(body):
            return _json({"status": 0, "error_msg": "Signature not valid"})
        with self._lock:
            ref_id = str(body["ref_id"])
            self.status_calls[ref_id] += 1
            txn = self.transactions.get(ref_id)
            if txn is None:
                return _json({"status": 0, "error_msg": "Transaksi tidak ditemukan"})
            if txn["status"] == "Pending":
                kind = txn["outcome"].kind
                if kind in ("success", "timeout", "down"):
                    txn.update(status="Sukses", sn=txn["outcome"].sn or f"SN/{ref_id}")
                elif kind == "fail":
                    self.saldo += txn["product_detail"]["price_rp"]
                    txn.update(status="Gagal", sn=txn["outcome"].sn or "error_require_login")
                elif kind == "partial":
                    txn.update(status="Sukses Sebagian", sn="ML5 OK, ML10 GAGAL")
            return _json({"status": 1, "data": self._public(txn)})

    def _account(self, request: Request) -> Response:
        match = ACCOUNT.match(request.path)
        expected = hashlib.md5((self.merchant_id + self.secret_key).encode()).hexdigest()
        if match is None or match["merchant"] != self.merchant_id or not hmac.compare_digest(
                request.args.get("signature", ""), expected):
            return _json({"status": 0, "error_msg": "Signature not valid"})
        return _json({"status": 1, "rc": 200, "message": "Sukses", "data": {
            "id": 1, "merchant_id": self.merchant_id, "email": "owner@example.com",
            "hp": "081234567890", "nama": "Fake Merchant", "saldo": self.saldo},
            "ts": int(time.time())})

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
