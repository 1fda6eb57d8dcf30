"""A fake Tokovoucher API, built from the docs repo yolkmonday/tokovoucher-docs (CONTRACTS.md
section 3), not from our adapter.

- POST /v1/transaksi {ref_id, produk, tujuan, server_id, member_code, signature =
  md5(MEMBER:SECRET:REF_ID)} buys: {status: pending|sukses|gagal, message (TRXID/REFID/HRG/
  SALDO/KP/TGL), sn, ref_id, trx_id, produk, sisa_saldo, price}. A ref_id already used answers
  the existing transaction and buys nothing. Errors are {"status": 0, "error_msg": ...}: bad
  signature ("Signature Invalid"), IP not whitelisted ("Ip Not Allow"), unknown or inactive
  product, balance too low. Tokovoucher takes no price cap: extra fields are ignored.
- POST /v1/transaksi/status {ref_id, member_code, signature}: the same shape; an unknown ref_id
  is {"status": 0, "error_msg": "Transaksi tidak ditemukan"}.
- GET /member, /member/produk/full, /produk/code with the default signature md5(MEMBER:SECRET).
- `webhook(ref_id)` builds the webhook with X-TokoVoucher-Authorization.
Outcomes are scripted per tujuan (`script`).
"""
from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections import Counter
from dataclasses import dataclass

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

CATEGORIES = [{"id": 1, "nama": "Topup Game"}]
OPERATORS = [
    {"id": 1, "nama": "Mobile Legends", "category_id": 1, "logo": "", "status": 1},
    {"id": 2, "nama": "Free Fire", "category_id": 1, "logo": "", "status": 1},
]
JENIS = [
    {"id": 1, "nama": "Mobile Legends Fast", "operator_id": 1, "status": 1, "helper_html": "",
     "format_form": json.dumps([{"name": "tujuan", "label": "User ID"},
                                {"name": "server_id", "label": "Zone ID"}])},
    {"id": 2, "nama": "Free Fire ID", "operator_id": 2, "status": 1, "helper_html": "",
     "format_form": json.dumps([{"name": "tujuan", "label": "Player ID"}])},
]
PRODUCTS = [
    {"id": 1, "kode_produk": "ML86", "nama": "Mobile Legends 86 Diamonds",
     "deskripsi": "86 Diamonds", "price": 19_500, "price_gold": 19_300, "price_vip": 19_200,
     "price_vvip": 19_100, "status": 1, "kategori_id": 1, "operator_id": 1, "jenis_id": 1},
    {"id": 2, "kode_produk": "FF5", "nama": "Free Fire 5 Diamond", "deskripsi": "5 Diamond",
     "price": 1_500, "price_gold": 1_450, "price_vip": 1_400, "price_vvip": 1_350, "status": 0,
     "kategori_id": 1, "operator_id": 2, "jenis_id": 2},
]


@dataclass
class Outcome:
    """What a new order for one tujuan does: "success" (sukses at once), "pending" (pending
    until complete()/fail(), or the first status read when `settle_on_check`), "fail" (gagal at
    once), "timeout" (sukses, answered only after `slow_seconds`), "down" (made, then HTTP 502).
    """
    kind: str = "success"
    settle_on_check: bool = False
    then: str = "sukses"


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


class FakeTokovoucher:
    def __init__(self, httpserver: HTTPServer, member_code: str = "MEM3532234432X34",
                 secret: str = "fake-tokovoucher-secret", saldo: int = 1_000_000):
        self.server = httpserver
        self.member_code = member_code
        self.secret = secret
        self.saldo = saldo
        self.slow_seconds = 2.0
        self.ip_blocked = False
        self.products = {p["kode_produk"]: dict(p) for p in PRODUCTS}
        self.transactions: dict[str, dict] = {}
        self.purchases: Counter[str] = Counter()
        self.order_calls: Counter[str] = Counter()
        self.status_calls: Counter[str] = Counter()
        self.product_calls = 0
        self.outcomes: dict[str, Outcome] = {}
        self._lock = threading.RLock()
        self._released = threading.Event()
        for path, method, handler in (
                ("/v1/transaksi", "POST", self._order),
                ("/v1/transaksi/status", "POST", self._status),
                ("/member", "GET", self._member),
                ("/member/produk/full", "GET", self._full),
                ("/produk/code", "GET", self._code)):
            httpserver.expect_request(path, method=method).respond_with_handler(handler)

    # ---- test controls --------------------------------------------------------------------
    def settings(self, **extra) -> dict:
        return {"TOKOVOUCHER_MEMBER_CODE": self.member_code, "TOKOVOUCHER_SECRET": self.secret,
                "TOKOVOUCHER_API_URL": self.server.url_for("/").rstrip("/"), **extra}

    def script(self, tujuan: str, kind: str = "success", **kwargs) -> None:
        self.outcomes[tujuan] = Outcome(kind, **kwargs)

    def complete(self, ref_id: str, sn: str = "") -> None:
        with self._lock:
            self._settle(self.transactions[ref_id], "sukses", sn)

    def fail(self, ref_id: str) -> None:
        with self._lock:
            self._settle(self.transactions[ref_id], "gagal")

    def release(self) -> None:
        self._released.set()

    def signature(self, ref_id: str) -> str:
        return md5(f"{self.member_code}:{self.secret}:{ref_id}")

    def webhook(self, ref_id: str) -> tuple[bytes, dict]:
        body = json.dumps(self._public(self.transactions[ref_id])).encode()
        return body, {"X-TokoVoucher-Authorization": self.signature(ref_id),
                      "Content-Type": "application/json"}

    # ---- vendor behaviour -----------------------------------------------------------------
    def _settle(self, txn: dict, status: str, sn: str = "") -> None:
        if txn["status"] != "pending":
            return
        if status == "gagal":
            self.saldo += txn["price"]
            txn.update(status="gagal", sn="", sisa_saldo=self.saldo)
        else:
            txn.update(status="sukses", sn=sn or f"TV-{txn['trx_id']}")

    def _public(self, txn: dict) -> dict:
        data = {k: v for k, v in txn.items() if k not in ("outcome", "tujuan")}
        data["message"] = (f"TRXID:{txn['trx_id']}/REFID:{txn['ref_id']}/HRG:{txn['price']}/"
                           f"SALDO:{txn['sisa_saldo']}/KP:{txn['produk']}/"
                           f"TGL:2026-12-07 08:00:00")
        return data

    def _body(self, request: Request) -> dict:
        try:
            body = json.loads(request.get_data())
        except ValueError:
            return {}
        return body if isinstance(body, dict) else {}

    def _refusal(self, body: dict, signature: str) -> Response | None:
        if self.ip_blocked:
            return _json({"status": 0, "error_msg": "Ip Not Allow"})
        if body.get("member_code") != self.member_code or not hmac.compare_digest(
                str(body.get("signature") or ""), signature):
            return _json({"status": 0, "error_msg": "Signature Invalid"})
        return None

    def _order(self, request: Request) -> Response:
        body = self._body(request)
        ref_id = str(body.get("ref_id") or "")
        refused = self._refusal(body, self.signature(ref_id))
        if refused:
            return refused
        produk, tujuan = str(body.get("produk") or ""), str(body.get("tujuan") or "")
        with self._lock:
            self.order_calls[ref_id] += 1
            existing = self.transactions.get(ref_id)
            if existing is not None:
                return _json(self._public(existing))
            product = self.products.get(produk)
            if product is None:
                return _json({"status": 0, "error_msg": "Produk tidak ditemukan"})
            if product["status"] != 1:
                return _json({"status": 0, "error_msg": "Produk sedang tidak aktif"})
            if not tujuan:
                return _json({"status": 0, "error_msg": "Tujuan tidak boleh kosong"})
            price = product["price"]
            if self.saldo < price:
                return _json({"status": 0, "error_msg": "Saldo tidak mencukupi"})
            self.saldo -= price
            outcome = self.outcomes.get(tujuan) or Outcome()
            txn = {"status": "pending", "sn": "", "ref_id": ref_id,
                   "trx_id": f"TRX{len(self.transactions) + 1:010d}", "produk": produk,
                   "sisa_saldo": self.saldo, "price": price, "outcome": outcome,
                   "tujuan": tujuan + "|" + str(body.get("server_id") or "")}
            self.transactions[ref_id] = txn
            self.purchases[ref_id] += 1
            if outcome.kind in ("success", "timeout", "down"):
                self._settle(txn, "sukses")
            elif outcome.kind == "fail":
                self._settle(txn, "gagal")
            answer = self._public(txn)
        if outcome.kind == "down":
            return Response("<h1>502 Bad Gateway</h1>", 502, content_type="text/html")
        if outcome.kind == "timeout":
            self._released.wait(self.slow_seconds)
        return _json(answer)

    def _status(self, request: Request) -> Response:
        body = self._body(request)
        ref_id = str(body.get("ref_id") or "")
        refused = self._refusal(body, self.signature(ref_id))
        if refused:
            return refused
        with self._lock:
            self.status_calls[ref_id] += 1
            txn = self.transactions.get(ref_id)
            if txn is None:
                return _json({"status": 0, "error_msg": "Transaksi tidak ditemukan"})
            if txn["outcome"].settle_on_check:
                self._settle(txn, txn["outcome"].then)
            return _json(self._public(txn))

    def _default_refusal(self, request: Request) -> Response | None:
        return self._refusal(dict(request.args), md5(f"{self.member_code}:{self.secret}"))

    def _member(self, request: Request) -> Response:
        refused = self._default_refusal(request)
        if refused:
            return _json({"status": 0, "error_msg": "Member tidak ditemukan !!"}) \
                if request.args.get("member_code") != self.member_code else refused
        return _json({"status": 1, "rc": 200, "message": "Detail member", "data": {
            "saldo": self.saldo, "nama": "Fake Member", "member_code": self.member_code},
            "ts": int(time.time())})

    def _full(self, request: Request) -> Response:
        refused = self._default_refusal(request)
        if refused:
            return refused
        self.product_calls += 1
        return _json({"status": 1, "rc": 200, "message": "Data Found", "data": {
            "category": CATEGORIES, "operator": OPERATORS, "jenis": JENIS,
            "produk": list(self.products.values())}, "ts": int(time.time())})

    def _code(self, request: Request) -> Response:
        refused = self._default_refusal(request)
        if refused:
            return refused
        self.product_calls += 1
        kode = request.args.get("kode", "")
        rows = [p for code, p in self.products.items() if code.startswith(kode)]
        if not kode or not rows:
            return _json({"status": 0, "rc": 500, "error_msg": "Kode Produk Tidak Ditemukan"})
        return _json({"status": 1, "rc": 200, "message": "Data Found", "data": [
            {"id": p["id"], "code": p["kode_produk"], "category_name": "Topup Game",
             "operator_produk": "", "jenis_name": "", "nama_produk": p["nama"],
             "deskripsi": p["deskripsi"], "price": p["price"], "status": p["status"]}
            for p in rows], "ts": int(time.time())})


def _json(body: dict) -> Response:
    return Response(json.dumps(body), 200, content_type="application/json")
