"""A fake Digiflazz buyer API, built from developer.digiflazz.com/api/buyer/ (not from our adapter).

Install it on a pytest_httpserver.HTTPServer; it serves POST /v1/transaction, /v1/cek-saldo and
/v1/price-list the way Digiflazz does:
- every call carries `username` and an md5 `sign` in the JSON body; a wrong username is rc 42,
  a wrong sign rc 41 (Digiflazz answers business errors with HTTP 400 and a `data` body);
- transactions are kept by `ref_id`: re-sending a ref_id returns the existing transaction (the
  documented status check) and buys nothing; the same ref_id with another SKU or customer_no is
  rc 49. Answers that form no transaction (41, 43, 44, 49, 69 ...) are not kept, so a re-send
  after the cause is fixed is a fresh attempt;
- a purchase takes the product's price from `deposit` (rc 44 when too low; a Gagal refunds it);
  with `"testing": true` nothing is deducted and the documented test numbers apply;
- `max_price` below the product's price is rc 69, nothing formed.
Outcomes are scripted per customer_no (see `script`) or per SKU (`script_sku`, which wins: one
seller failing whoever buys). The body of the last /transaction request per ref_id is kept in
`bodies` (what max_price we sent). `callback()` builds a signed webhook.
`on_transaction(stage, ref_id)`, when set, runs inside the /v1/transaction handler: at
"received" (before anything; returning "lost" drops the request unprocessed, as a connection
that died on the way does) and at "formed" (the transaction is on the books, the answer not yet
sent). The fault tests kill the calling worker process there.
The "timeout" outcome holds its answer for `slow_seconds`: on a non-threaded HTTPServer a retry
waits behind it, so use HTTPServer(threaded=True) to re-send while the first answer is late.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

# Messages as documented per rc (response-code page).
MESSAGES = {
    "00": "Transaksi Sukses",
    "01": "Timeout",
    "02": "Transaksi Gagal",
    "03": "Transaksi Pending",
    "40": "Payload Error",
    "41": "Signature Anda salah",
    "42": "Gagal memproses API Buyer",
    "43": "SKU tidak di temukan atau Non-Aktif",
    "44": "Saldo tidak cukup",
    "45": "IP Anda tidak kami kenali",
    "49": "Ref ID tidak unik",
    "54": "Nomor Tujuan Salah",
    "58": "Sedang Cut Off",
    "69": "Harga seller lebih besar dari ketentuan harga buyer",
    "83": "Anda telah mencapai limitasi pengecekan pricelist, silahkan coba beberapa saat lagi",
}


@dataclass
class Outcome:
    """What happens to a new transaction for one customer_no.

    kind: "success" (Sukses at once), "pending" (Pending; becomes `then` after `after_checks`
    re-sends, or when the test calls complete()/fail()), "fail" (Gagal with `rc`, formed),
    "timeout" (formed and settled as `then`, but the answer comes only after `slow_seconds`:
    the client times out), "down" (HTTP 500, nothing recorded).
    """
    kind: str = "success"
    rc: str = "02"
    then: str = "success"
    after_checks: int | None = None
    sn: str | None = None


# The documented test destinations (used when the request says "testing": true).
TEST_NUMBERS = {
    "087800001230": Outcome("success"),
    "087800001232": Outcome("fail", rc="54"),
    "087800001233": Outcome("pending", then="success", after_checks=1),
    "087800001234": Outcome("pending", then="fail", after_checks=1),
}

DEFAULT_PRODUCTS = [
    {"product_name": "Mobile Legends 86 Diamonds", "category": "Games", "brand": "MOBILE LEGENDS",
     "type": "Umum", "seller_name": "PT Seller Satu", "price": 20000, "buyer_sku_code": "ML86",
     "buyer_product_status": True, "seller_product_status": True, "unlimited_stock": True,
     "stock": 0, "multi": True, "start_cut_off": "00:00", "end_cut_off": "00:00",
     "desc": "Masukkan User ID dan Zone ID"},
    {"product_name": "Telkomsel Pulsa 5.000", "category": "Pulsa", "brand": "TELKOMSEL",
     "type": "Umum", "seller_name": "PT Seller Dua", "price": 5100, "buyer_sku_code": "S5",
     "buyer_product_status": True, "seller_product_status": True, "unlimited_stock": False,
     "stock": 1200, "multi": False, "start_cut_off": "23:45", "end_cut_off": "00:15",
     "desc": "Pulsa Telkomsel Rp 5.000"},
]


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


class FakeDigiflazz:
    """Vendor-side state and handlers. Attributes tests read or set:

    transactions (ref_id -> dict), purchases (Counter: transactions created per ref_id),
    calls (Counter: /transaction requests per ref_id), price_list_calls, balance_calls, deposit,
    down, garbage, ip_blocked, price_list_limited, slow_seconds, products (sku -> dict),
    on_transaction.
    """

    def __init__(self, httpserver: HTTPServer, username: str = "fakebuyer",
                 api_key: str = "dev-3f9c2a10-fake-key", webhook_secret: str = "hook-secret",
                 deposit: int = 1_000_000, slow_seconds: float = 2.0):
        self.server = httpserver
        self.username = username
        self.api_key = api_key
        self.webhook_secret = webhook_secret
        self.deposit = deposit
        self.slow_seconds = slow_seconds
        self.down = False
        self.garbage = False
        self.ip_blocked = False
        self.price_list_limited = False
        self.transactions: dict[str, dict] = {}
        self.purchases: Counter[str] = Counter()
        self.calls: Counter[str] = Counter()
        self.price_list_calls = 0
        self.balance_calls = 0
        self.outcomes: dict[str, Outcome] = {}
        self.sku_outcomes: dict[str, Outcome] = {}
        self.bodies: dict[str, dict] = {}
        self.on_transaction = None
        self.products = {p["buyer_sku_code"]: dict(p) for p in DEFAULT_PRODUCTS}
        self._lock = threading.RLock()
        self._serial = 0
        for path, handler in (("/v1/transaction", self._transaction),
                              ("/v1/cek-saldo", self._balance),
                              ("/v1/price-list", self._price_list)):
            httpserver.expect_request(path, method="POST").respond_with_handler(handler)

    # ---- test controls -------------------------------------------------------------------
    @property
    def api_url(self) -> str:
        return self.server.url_for("/v1")

    def settings(self, **extra) -> dict:
        """Adapter settings pointing at this fake."""
        return {"DIGIFLAZZ_USERNAME": self.username, "DIGIFLAZZ_API_KEY": self.api_key,
                "DIGIFLAZZ_WEBHOOK_SECRET": self.webhook_secret,
                "DIGIFLAZZ_API_URL": self.api_url, **extra}

    def script(self, customer_no: str, kind: str = "success", **kwargs) -> None:
        """Decide what a new transaction for `customer_no` does (see Outcome)."""
        self.outcomes[customer_no] = Outcome(kind, **kwargs)

    def script_sku(self, sku: str, kind: str = "success", **kwargs) -> None:
        """Decide what a new transaction for `sku` does, whoever it is for (see Outcome)."""
        self.sku_outcomes[sku] = Outcome(kind, **kwargs)

    def add_product(self, sku: str, price: int, **fields) -> None:
        row = {"product_name": sku, "category": "Games", "brand": "GAME", "type": "Umum",
               "seller_name": "PT Fake", "price": price, "buyer_sku_code": sku,
               "buyer_product_status": True, "seller_product_status": True,
               "unlimited_stock": True, "stock": 0, "multi": True, "start_cut_off": "00:00",
               "end_cut_off": "00:00", "desc": "-"}
        row.update(fields)
        self.products[sku] = row

    def change_product(self, sku: str, **fields) -> None:
        self.products[sku].update(fields)

    def drop_product(self, sku: str) -> None:
        del self.products[sku]

    def complete(self, ref_id: str, sn: str | None = None) -> None:
        """The seller finished a pending transaction successfully."""
        with self._lock:
            self._settle(self.transactions[ref_id], "success", sn=sn)

    def fail(self, ref_id: str, rc: str = "02") -> None:
        """The seller failed a pending transaction (Digiflazz refunds the deposit)."""
        with self._lock:
            self._settle(self.transactions[ref_id], "fail", rc=rc)

    def callback(self, ref_id: str, event: str = "update") -> tuple[bytes, dict]:
        """A webhook delivery for the transaction's current state: (raw body, headers)."""
        with self._lock:
            body = json.dumps({"data": self._public(self.transactions[ref_id])}).encode()
        signature = hmac.new(self.webhook_secret.encode(), body, hashlib.sha1).hexdigest()
        headers = {"X-Digiflazz-Event": event, "X-Digiflazz-Delivery": str(uuid.uuid4()),
                   "X-Hub-Signature": f"sha1={signature}", "User-Agent": "Digiflazz-Hookshot",
                   "Content-Type": "application/json"}
        return body, headers

    # ---- vendor behaviour ----------------------------------------------------------------
    def _answer(self, data, status: int = 200) -> Response:
        return Response(json.dumps({"data": data}), status=status, mimetype="application/json")

    def _error(self, rc: str, extra: dict | None = None) -> Response:
        data = dict(extra or {})
        data.update({"status": "Gagal", "rc": rc, "message": MESSAGES.get(rc, "Gagal"),
                     "sn": "", "price": 0, "buyer_last_saldo": self.deposit})
        return self._answer(data, 400)

    def _body(self, request: Request) -> dict | None:
        try:
            body = json.loads(request.get_data())
        except ValueError:
            return None
        return body if isinstance(body, dict) else None

    def _auth(self, body: dict, sign_suffix: str) -> str | None:
        """The rc refusing this call, or None when username, sign and IP are good."""
        if body.get("username") != self.username:
            return "42"
        if body.get("sign") != md5(self.username + self.api_key + sign_suffix):
            return "41"
        if self.ip_blocked:
            return "45"
        return None

    def _transaction(self, request: Request) -> Response:
        if self.down:
            return Response("Internal Server Error", status=500)
        if self.garbage:
            return Response("<html><body>Maintenance</body></html>", mimetype="text/html")
        body = self._body(request)
        fields = ("username", "buyer_sku_code", "customer_no", "ref_id", "sign")
        if body is None or not all(isinstance(body.get(f), str) and body[f] for f in fields):
            return self._error("40")
        ref_id, sku, customer = body["ref_id"], body["buyer_sku_code"], body["customer_no"]
        if self.on_transaction and self.on_transaction("received", ref_id) == "lost":
            return Response("connection lost", status=502)
        echo = {"ref_id": ref_id, "customer_no": customer, "buyer_sku_code": sku}
        refused = self._auth(body, ref_id)
        if refused:
            return self._error(refused, echo)
        testing = body.get("testing") is True
        outcome = (TEST_NUMBERS.get(customer) if testing else None) \
            or self.sku_outcomes.get(sku) or self.outcomes.get(customer) or Outcome()
        with self._lock:
            self.calls[ref_id] += 1
            self.bodies[ref_id] = dict(body)
            existing = self.transactions.get(ref_id)
            if existing is not None:
                if (existing["buyer_sku_code"], existing["customer_no"]) != (sku, customer):
                    return self._error("49", echo)
                existing["checks"] += 1
                pending_after = existing["outcome"].after_checks
                if existing["status"] == "Pending" and pending_after is not None \
                        and existing["checks"] >= pending_after:
                    self._settle(existing, existing["outcome"].then, rc=existing["outcome"].rc)
                return self._reply(existing)
            if outcome.kind == "down":
                return Response("Internal Server Error", status=500)
            product = self.products.get(sku)
            if not product or not product["buyer_product_status"] \
                    or not product["seller_product_status"]:
                return self._error("43", echo)
            price = int(product["price"])
            max_price = body.get("max_price")
            if max_price is not None and price > int(max_price):
                return self._error("69", echo)
            if not testing:
                if self.deposit < price:
                    return self._error("44", echo)
                self.deposit -= price
            txn = {**echo, "status": "Pending", "rc": "03", "message": MESSAGES["03"], "sn": "",
                   "price": price, "buyer_last_saldo": self.deposit, "checks": 0,
                   "outcome": outcome, "testing": testing}
            self.transactions[ref_id] = txn
            self.purchases[ref_id] += 1
            if outcome.kind in ("success", "timeout"):
                self._settle(txn, "success" if outcome.kind == "success" else outcome.then,
                             sn=outcome.sn, rc=outcome.rc)
            elif outcome.kind == "fail":
                self._settle(txn, "fail", rc=outcome.rc)
            reply = self._reply(txn)
        if self.on_transaction:
            self.on_transaction("formed", ref_id)
        if outcome.kind == "timeout":
            # The purchase is on the books; only the answer is late, past the client's timeout.
            time.sleep(self.slow_seconds)
        return reply

    def _settle(self, txn: dict, result: str, sn: str | None = None, rc: str = "02") -> None:
        if txn["status"] != "Pending":
            return
        if result == "success":
            self._serial += 1
            txn.update(status="Sukses", rc="00", message=MESSAGES["00"],
                       sn=sn or f"SN{self._serial:04d}/{txn['ref_id']}")
        else:
            if not txn["testing"]:
                self.deposit += txn["price"]          # Digiflazz refunds a failed purchase
            txn.update(status="Gagal", rc=rc, message=MESSAGES.get(rc, "Transaksi Gagal"), sn="",
                       buyer_last_saldo=self.deposit)

    def _public(self, txn: dict) -> dict:
        data = {k: txn[k] for k in ("ref_id", "customer_no", "buyer_sku_code", "message",
                                    "status", "rc", "sn", "buyer_last_saldo", "price")}
        data.update(tele="@fakeseller", wa="081234512345")
        return data

    def _reply(self, txn: dict) -> Response:
        return self._answer(self._public(txn), 400 if txn["status"] == "Gagal" else 200)

    def _balance(self, request: Request) -> Response:
        if self.down:
            return Response("Internal Server Error", status=500)
        body = self._body(request)
        if body is None or body.get("cmd") != "deposit":
            return self._answer({"rc": "40", "message": MESSAGES["40"]}, 400)
        refused = self._auth(body, "depo")
        if refused:
            return self._answer({"rc": refused, "message": MESSAGES[refused]}, 400)
        self.balance_calls += 1
        return self._answer({"deposit": self.deposit})

    def _price_list(self, request: Request) -> Response:
        if self.down:
            return Response("Internal Server Error", status=500)
        body = self._body(request)
        if body is None or body.get("cmd") not in ("prepaid", "pasca"):
            return self._answer({"rc": "40", "message": MESSAGES["40"]}, 400)
        refused = self._auth(body, "pricelist")
        if refused:
            return self._answer({"rc": refused, "message": MESSAGES[refused]}, 400)
        self.price_list_calls += 1
        if self.price_list_limited:
            return self._answer({"rc": "83", "message": MESSAGES["83"]})
        return self._answer([dict(p) for p in self.products.values()])
