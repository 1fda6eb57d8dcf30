"""Tokovoucher (tokovoucher.net): game vouchers and top-ups, JSON over HTTPS.

POST /v1/transaksi {ref_id, produk, tujuan, server_id, member_code, signature} buys and POST
/v1/transaksi/status {ref_id, member_code, signature} reads it, signature =
md5(MEMBER_CODE:SECRET:REF_ID). Both answer {status: pending|sukses|gagal, message, sn, ref_id,
trx_id, produk, sisa_saldo, price}; errors are {"status": 0, "error_msg": ...} (so `status`
changes type). The balance (GET /member) and products (GET /member/produk/full, /produk/code)
take the member area's default signature, md5(MEMBER_CODE:SECRET). Webhooks carry header
X-TokoVoucher-Authorization = the transaction's md5.

Idempotency: what Tokovoucher does with a repeated ref_id is not published, so every placement
first asks the status call for the ref_id and orders only when Tokovoucher has none; a timeout
or an unreadable answer after ordering is RETRY, and the next look is again the status call.
Residual risk: an order request reaching Tokovoucher later than our next look (15 s or more) is
bought twice. Tokovoucher takes no price cap: with a max_price the product's current price is
read first (/produk/code) and the order is not sent when it is above; the price can still
change between that read and the order.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace

import requests
from flask_babel import lazy_gettext as _l

from merchant.vendors.callback_schemas import TokovoucherWebhook
from merchant.vendors.http import send
from merchant.vendors.suppliers.base import (
    DELIVERED,
    FAILED,
    PENDING,
    REFUSED,
    RETRY,
    Delivery,
    PriceItem,
    Supplier,
    SupplierError,
    SupplierResult,
)
from merchant.vendors.suppliers.wire import (
    json_object,
    md5_hex,
    ref_signed_callback,
    rupiah,
    target_and_zone,
)

DEFAULT_API_URL = "https://api.tokovoucher.net"

STATUSES = {"pending": PENDING, "sukses": DELIVERED, "gagal": FAILED}

# No result codes are published: ours name the kind of answer (ADVICE, the order history).
UNKNOWN, SIGNATURE, IP, BALANCE, PRODUCT, PRICE, REFUSAL, FAILURE = (
    "unknown", "signature", "ip", "balance", "product", "price", "refused", "gagal")
_NOT_FOUND = re.compile(r"tidak ditemukan|not found|tidak ada|belum ada", re.I)
_ERRORS = (
    (SIGNATURE, REFUSED, re.compile(r"signature|member", re.I)),
    (IP, REFUSED, re.compile(r"\bip\b|whitelist", re.I)),
    (UNKNOWN, RETRY, re.compile(r"ref_?id|duplicate|sudah (ada|digunakan)", re.I)),
    (BALANCE, FAILED, re.compile(r"saldo|balance", re.I)),
    (PRODUCT, FAILED, re.compile(r"produk|product|gangguan|maintenance|tidak aktif", re.I)),
)

ADVICE = {
    UNKNOWN: _l("Tokovoucher gave no final answer and has no transaction under this ref_id yet. "
                "Look for it in the Tokovoucher member area before retrying."),
    SIGNATURE: _l("Tokovoucher refused the signature: check MERCHANT_TOKOVOUCHER_MEMBER_CODE and "
                  "MERCHANT_TOKOVOUCHER_SECRET, then retry."),
    IP: _l("Tokovoucher does not accept this server's IP address: whitelist it in the member "
           "area (pengaturan, IP whitelist), then retry."),
    BALANCE: _l("Your Tokovoucher balance is too low: top up your supplier deposit, then retry."),
    PRODUCT: _l("Tokovoucher does not sell this package's product code right now: check the "
                "SKU, retry later, or retry with another supplier."),
    PRICE: _l("Tokovoucher's price is above the most you pay (the package's supplier cost): "
              "raise the supplier cost or the price, then retry."),
    REFUSAL: _l("Tokovoucher refused the order: read its message in the history, then retry, "
                "deliver by hand, or refund."),
    FAILURE: _l("Tokovoucher failed this top-up (its reason is in the history): check the "
                "account ID with the customer, then retry, deliver by hand, or refund."),
}


class TokovoucherSupplier(Supplier):
    name = "tokovoucher"
    required_settings = ("TOKOVOUCHER_MEMBER_CODE", "TOKOVOUCHER_SECRET")
    ADVICE = ADVICE

    @property
    def _member(self) -> str:
        return str(self.settings["TOKOVOUCHER_MEMBER_CODE"])

    def _signature(self, ref_id: str | None = None) -> str:
        """md5(MEMBER:SECRET:REF_ID) for a transaction; the default md5(MEMBER:SECRET) without."""
        parts = [self._member, str(self.settings["TOKOVOUCHER_SECRET"])]
        return md5_hex(":".join(parts if ref_id is None else [*parts, ref_id]))

    def _call(self, method: str, path: str, **kwargs) -> tuple[requests.Response, dict | None]:
        """:raise SupplierError: no answer within the timeout, or not reached."""
        base = str(self.settings.get("TOKOVOUCHER_API_URL") or DEFAULT_API_URL).rstrip("/")
        response = send(self.http, method, base + path, vendor="Tokovoucher",
                        what=f"{method} {path}", timeout=self.timeout, error=SupplierError,
                        **kwargs)
        return response, json_object(response)

    def _list(self, path: str, **params) -> dict:
        """GET a member-area list with the default signature. :raise SupplierError:"""
        response, answer = self._call("GET", path, params={
            "member_code": self._member, "signature": self._signature(), **params})
        if not answer or str(answer.get("status")) != "1":
            said = (answer or {}).get("error_msg") or response.text[:200]
            raise SupplierError(f"Tokovoucher {path}: {said}")
        return answer

    # ---- orders ---------------------------------------------------------------------------
    def place(self, delivery: Delivery) -> SupplierResult:
        """Look the ref_id up; order only when Tokovoucher has no transaction under it (and,
        with a max_price, only when the product's current price is within it)."""
        found = self._status(delivery.ref_id)
        if found is not None:
            return found
        if delivery.supplier_ref:
            return SupplierResult(delivery.ref_id, RETRY, code=UNKNOWN,
                                  message=f"Tokovoucher no longer finds {delivery.supplier_ref}; "
                                          "not ordered again")
        if delivery.max_price is not None:
            refused = self._over_price(delivery)
            if refused is not None:
                return refused
        target, zone = target_and_zone(delivery.account)
        body = {"ref_id": delivery.ref_id, "produk": delivery.sku, "tujuan": target,
                "server_id": zone, "member_code": self._member,
                "signature": self._signature(delivery.ref_id)}
        try:
            response, answer = self._call("POST", "/v1/transaksi", json=body)
        except SupplierError as exc:
            return _unknown(delivery.ref_id, str(exc))
        return _read(delivery.ref_id, response, answer)

    def check(self, delivery: Delivery) -> SupplierResult:
        # The same look-up-first placement: after a lost answer it finds the transaction, and
        # it orders only if the first request never reached Tokovoucher.
        return self.place(delivery)

    def _over_price(self, delivery: Delivery) -> SupplierResult | None:
        """FAILED (nothing bought) when the product is gone or dearer than max_price; RETRY when
        its price cannot be read; None when the order may go."""
        try:
            rows = self._list("/produk/code", kode=delivery.sku).get("data")
        except SupplierError as exc:
            if _NOT_FOUND.search(str(exc)):
                return SupplierResult(delivery.ref_id, FAILED, code=PRODUCT,
                                      message=f"Tokovoucher has no product {delivery.sku}")
            return SupplierResult(delivery.ref_id, RETRY, code=UNKNOWN,
                                  message=f"{exc}; nothing ordered yet")
        row = next((r for r in rows or [] if isinstance(r, dict)
                    and str(r.get("code") or r.get("kode_produk")) == delivery.sku), None)
        if row is None or str(row.get("status")) != "1":
            return SupplierResult(delivery.ref_id, FAILED, code=PRODUCT,
                                  message=f"Tokovoucher product {delivery.sku} is not available")
        try:
            price = rupiah(row.get("price"))
        except ValueError:
            return SupplierResult(delivery.ref_id, RETRY, code=UNKNOWN,
                                  message=f"Tokovoucher price of {delivery.sku} unreadable")
        if price > delivery.max_price:
            return SupplierResult(delivery.ref_id, FAILED, code=PRICE, price=None,
                                  message=f"Tokovoucher price {price} is above the most we pay "
                                          f"({delivery.max_price}); not ordered")
        return None

    def _status(self, ref_id: str, event: bool = False) -> SupplierResult | None:
        """The transaction under `ref_id`; None when Tokovoucher says it has none."""
        body = {"ref_id": ref_id, "member_code": self._member,
                "signature": self._signature(ref_id)}
        try:
            response, answer = self._call("POST", "/v1/transaksi/status", json=body)
        except SupplierError as exc:
            return _unknown(ref_id, str(exc))
        if answer is not None and str(answer.get("status")) == "0" \
                and _NOT_FOUND.search(str(answer.get("error_msg") or "")):
            return None
        result = _read(ref_id, response, answer)
        if event and result.status != RETRY:
            result = replace(result, event_id=f"{result.supplier_ref}:{result.raw.get('status')}")
        return result

    # ---- balance and price list -----------------------------------------------------------
    def balance(self) -> int:
        """The Tokovoucher saldo, whole rupiah. :raise SupplierError: on any failure."""
        data = self._list("/member").get("data")
        try:
            return rupiah((data or {}).get("saldo"))
        except (AttributeError, ValueError) as exc:
            raise SupplierError(f"Tokovoucher balance: unreadable {data!r}"[:300]) from exc

    def price_list(self) -> list[PriceItem]:
        """Every product (/member/produk/full), priced for our member level: category, operator
        (the brand) and jenis (the type) by their ids. Tokovoucher has an on/off status per
        product, operator and jenis, but no stock count and no cut-off.
        :raise SupplierError: on any failure."""
        data = self._list("/member/produk/full").get("data")
        if not isinstance(data, dict) or not isinstance(data.get("produk"), list):
            raise SupplierError("Tokovoucher products: no produk list in the answer")

        def by_id(key: str) -> dict:
            return {row.get("id"): row for row in data.get(key) or [] if isinstance(row, dict)}

        categories, operators, kinds = by_id("category"), by_id("operator"), by_id("jenis")
        items = []
        for row in data["produk"]:
            if not isinstance(row, dict) or not row.get("kode_produk"):
                continue
            operator = operators.get(row.get("operator_id"), {})
            kind = kinds.get(row.get("jenis_id"), {})
            on = all(str(part.get("status", 1)) == "1" for part in (row, operator, kind))
            try:
                price = rupiah(row.get("price"))
            except ValueError as exc:
                raise SupplierError(f"Tokovoucher products: unreadable price of "
                                    f"{row.get('kode_produk')!r}") from exc
            items.append(PriceItem(
                sku=str(row["kode_produk"]), product_name=str(row.get("nama") or ""),
                category=str(categories.get(row.get("kategori_id"), {}).get("nama") or ""),
                brand=str(operator.get("nama") or ""), type=str(kind.get("nama") or ""),
                seller_name="", price=price, buyer_product_status=True,
                seller_product_status=on, unlimited_stock=True, stock=0,
                desc=str(row.get("deskripsi") or "")))
        return items

    # ---- callbacks ------------------------------------------------------------------------
    def parse_callback(self, body: bytes, headers: Mapping[str, str]) -> SupplierResult:
        """A webhook: X-TokoVoucher-Authorization must be
        md5(MEMBER:SECRET:REF_ID) for the body's ref_id; the outcome is read again from
        the status call (wire.ref_signed_callback)."""
        return ref_signed_callback("Tokovoucher", "X-TokoVoucher-Authorization",
                                   TokovoucherWebhook, body, headers, self._signature,
                                   self._status)


def _unknown(ref_id: str, why: str) -> SupplierResult:
    return SupplierResult(ref_id, RETRY, code=UNKNOWN,
                          message=f"Tokovoucher: {why}; the ref_id will be looked up again")


def _read(ref_id: str, response: requests.Response, answer: dict | None) -> SupplierResult:
    if answer is None or (not response.ok and not isinstance(answer.get("status"), str)):
        return _unknown(ref_id, f"HTTP {response.status_code}, unreadable answer "
                                f"{response.text[:200]!r}")
    status = answer.get("status")
    if isinstance(status, str) and status.lower() in STATUSES:
        return _result(ref_id, answer)
    message = str(answer.get("error_msg") or answer.get("message") or "")
    code, outcome = next(((code, outcome) for code, outcome, wording in _ERRORS
                          if wording.search(message)), (REFUSAL, FAILED))
    return SupplierResult(ref_id, outcome, code=code, raw=answer,
                          message=f"Tokovoucher refused: {message or str(answer)[:200]}")


def _result(ref_id: str, data: Mapping) -> SupplierResult:
    answered = str(data.get("ref_id") or ref_id)
    if answered != ref_id:
        return _unknown(ref_id, f"answered for ref_id {answered!r}")
    status = str(data["status"]).lower()
    outcome = STATUSES[status]
    sn = str(data.get("sn") or "")
    try:
        price = rupiah(data.get("price")) if outcome != FAILED else None
    except ValueError:
        price = None
    trx_id = str(data.get("trx_id") or "") or None
    said = str(data.get("message") or f"{trx_id} {status}")
    return SupplierResult(ref_id=ref_id, status=outcome, proof=sn if outcome == DELIVERED else "",
                          message=f"Tokovoucher {status}: {said}", supplier_ref=trx_id,
                          price=price, code=FAILURE if outcome == FAILED else None,
                          raw=dict(data))
