"""Apigames (apigames.id): game top-ups through your own provider accounts, JSON over HTTPS.

POST /v2/transaksi {ref_id, merchant_id, produk, tujuan, server_id, signature} buys, POST
/v2/transaksi/status {merchant_id, ref_id, signature} reads it, with signature =
md5(merchant_id:secret_key:ref_id); GET /merchant/{merchant_id}?signature=md5(merchant_id +
secret_key) gives the balance. An order answers Pending; the status call and the webhook
(header X-Apigames-Authorization, the same md5) carry the outcome. No price list is published.

Idempotency: the ref_id is ours, but Apigames does not promise to refuse a repeated one ("double
transactions are outside our responsibility") and says never to re-send an order to learn its
status. So every placement first asks the status call for the ref_id and orders only when
Apigames has no transaction under it; an HTTP error or a timeout after ordering is RETRY (their
rule: treat it as Pending), and the next look is again the status call. Residual risk: an order
request that reaches Apigames later than our next look (15 s or more) is bought twice.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from urllib.parse import quote

import requests
from flask_babel import lazy_gettext as _l

from merchant.vendors.callback_schemas import ApigamesWebhook
from merchant.vendors.http import send
from merchant.vendors.suppliers.base import (
    DELIVERED,
    FAILED,
    PENDING,
    REFUSED,
    RETRY,
    Delivery,
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

DEFAULT_API_URL = "https://v1.apigames.id"

# docs/v2/pendahuluan: Pending (first answer), Proses, Sukses, Gagal, Sukses Sebagian (a bundle
# only partly bought), Validasi Provider ("transaksi sukses dilakukan").
STATUSES = {"pending": PENDING, "proses": PENDING, "sukses": DELIVERED,
            "validasi provider": DELIVERED, "gagal": FAILED, "sukses sebagian": REFUSED}

# Apigames answers errors as {"status": 0, "error_msg": ...} without codes: ours name the kind.
UNKNOWN, SIGNATURE, IP, BALANCE, PRODUCT, PARTIAL, REFUSAL, FAILURE = (
    "unknown", "signature", "ip", "balance", "product", "partial", "refused", "gagal")
_NOT_FOUND = re.compile(r"tidak ditemukan|not found|tidak ada|belum ada", re.I)
_ERRORS = (
    (SIGNATURE, REFUSED, re.compile(r"signature|merchant|secret", re.I)),
    (IP, REFUSED, re.compile(r"\bip\b|whitelist", re.I)),
    (UNKNOWN, RETRY, re.compile(r"ref_?id|duplicate|sudah (ada|digunakan)", re.I)),
    (BALANCE, FAILED, re.compile(r"saldo|balance", re.I)),
    (PRODUCT, FAILED, re.compile(r"produk|product|gangguan|maintenance", re.I)),
)

ADVICE = {
    UNKNOWN: _l("Apigames gave no final answer and has no transaction under this ref_id yet. "
                "Look for it in the Apigames member area before retrying."),
    SIGNATURE: _l("Apigames refused the signature: check MERCHANT_APIGAMES_MERCHANT_ID and "
                  "MERCHANT_APIGAMES_SECRET_KEY, then retry."),
    IP: _l("Apigames does not accept this server's IP address: whitelist it in the Apigames "
           "member area, then retry."),
    BALANCE: _l("Your Apigames balance is too low: top up your supplier deposit, then retry."),
    PRODUCT: _l("Apigames does not sell this package's product code right now (or the provider "
                "account behind it is not connected): check the SKU, retry later, or retry with "
                "another supplier."),
    PARTIAL: _l("Apigames bought only part of this bundle: settle the rest by hand or refund "
                "the difference."),
    REFUSAL: _l("Apigames refused the order: read its message in the history, then retry, "
                "deliver by hand, or refund."),
    FAILURE: _l("The provider behind Apigames failed this top-up (its reason is in the "
                "history): check the account ID with the customer, then retry, deliver by "
                "hand, or refund."),
}


class ApigamesSupplier(Supplier):
    name = "apigames"
    required_settings = ("APIGAMES_MERCHANT_ID", "APIGAMES_SECRET_KEY")
    ADVICE = ADVICE

    @property
    def _merchant(self) -> str:
        return str(self.settings["APIGAMES_MERCHANT_ID"])

    def _signature(self, ref_id: str) -> str:
        return md5_hex(f"{self._merchant}:{self.settings['APIGAMES_SECRET_KEY']}:{ref_id}")

    def _url(self, path: str) -> str:
        return str(self.settings.get("APIGAMES_API_URL") or DEFAULT_API_URL).rstrip("/") + path

    def _call(self, method: str, path: str, **kwargs) -> tuple[requests.Response, dict | None]:
        """:raise SupplierError: no answer within the timeout, or not reached."""
        response = send(self.http, method, self._url(path), vendor="Apigames",
                        what=f"{method} {path.split('?')[0]}", timeout=self.timeout,
                        error=SupplierError, **kwargs)
        return response, json_object(response)

    # ---- orders ---------------------------------------------------------------------------
    def place(self, delivery: Delivery) -> SupplierResult:
        """Look the ref_id up; order only when Apigames has no transaction under it."""
        found = self._status(delivery.ref_id)
        if found is not None:
            return found
        if delivery.supplier_ref:
            # We had an answer naming a transaction, and now it is not found: never re-order.
            return SupplierResult(delivery.ref_id, RETRY, code=UNKNOWN,
                                  message=f"Apigames no longer finds {delivery.supplier_ref}; "
                                          "not ordered again")
        target, zone = target_and_zone(delivery.account)
        body = {"ref_id": delivery.ref_id, "merchant_id": self._merchant, "produk": delivery.sku,
                "tujuan": target, "server_id": zone,
                "signature": self._signature(delivery.ref_id)}
        try:
            response, answer = self._call("POST", "/v2/transaksi", json=body)
        except SupplierError as exc:
            return _unknown(delivery.ref_id, str(exc))
        return self._read(delivery.ref_id, response, answer)

    def check(self, delivery: Delivery) -> SupplierResult:
        # The same look-up-first placement: after a lost answer it finds the transaction, and
        # it orders only if the first request never reached Apigames.
        return self.place(delivery)

    def _status(self, ref_id: str, event: bool = False) -> SupplierResult | None:
        """The transaction under `ref_id`; None when Apigames says it has none."""
        body = {"merchant_id": self._merchant, "ref_id": ref_id,
                "signature": self._signature(ref_id)}
        try:
            response, answer = self._call("POST", "/v2/transaksi/status", json=body)
        except SupplierError as exc:
            return _unknown(ref_id, str(exc))
        if answer is not None and str(answer.get("status")) == "0" \
                and _NOT_FOUND.search(str(answer.get("error_msg") or "")):
            return None
        result = self._read(ref_id, response, answer)
        if event and result.status != RETRY:
            result = replace(result, event_id=f"{result.supplier_ref}:{result.raw.get('status')}")
        return result

    def _read(self, ref_id: str, response: requests.Response,
              answer: dict | None) -> SupplierResult:
        if not response.ok or answer is None:
            return _unknown(ref_id, f"HTTP {response.status_code}, unreadable answer "
                                    f"{response.text[:200]!r}")
        data = answer.get("data")
        if str(answer.get("status")) == "1" and isinstance(data, dict):
            return _result(ref_id, data)
        message = str(answer.get("error_msg") or answer.get("message") or "")
        code, outcome = next(((code, outcome) for code, outcome, wording in _ERRORS
                              if wording.search(message)), (REFUSAL, FAILED))
        return SupplierResult(ref_id, outcome, code=code, raw=answer,
                              message=f"Apigames refused: {message or str(answer)[:200]}")

    # ---- balance --------------------------------------------------------------------------
    def balance(self) -> int:
        """The Apigames balance (saldo), whole rupiah. :raise SupplierError: on any failure."""
        path = f"/merchant/{quote(self._merchant, safe='')}"
        signature = md5_hex(self._merchant + str(self.settings["APIGAMES_SECRET_KEY"]))
        response, answer = self._call("GET", path, params={"signature": signature})
        data = (answer or {}).get("data")
        if not answer or str(answer.get("status")) != "1" or not isinstance(data, dict):
            said = (answer or {}).get("error_msg") or response.text[:200]
            raise SupplierError(f"Apigames balance: {said}")
        try:
            return rupiah(data.get("saldo"))
        except ValueError as exc:
            raise SupplierError(f"Apigames balance: unreadable saldo {data.get('saldo')!r}") \
                from exc

    # ---- callbacks ------------------------------------------------------------------------
    def parse_callback(self, body: bytes, headers: Mapping[str, str]) -> SupplierResult:
        """A webhook: X-Apigames-Authorization must be
        md5(merchant_id:secret_key:ref_id) for the body's ref_id; the outcome is read again from
        the status call (wire.ref_signed_callback)."""
        return ref_signed_callback("Apigames", "X-Apigames-Authorization", ApigamesWebhook, body,
                                   headers, self._signature, self._status)


def _unknown(ref_id: str, why: str) -> SupplierResult:
    """HTTP errors and timeouts are Pending by Apigames' rules: look again, never re-order."""
    return SupplierResult(ref_id, RETRY, code=UNKNOWN,
                          message=f"Apigames: {why}; the ref_id will be looked up again")


def _result(ref_id: str, data: Mapping) -> SupplierResult:
    status = str(data.get("status") or "")
    outcome = STATUSES.get(status.lower(), RETRY)
    answered = str(data.get("ref_id") or ref_id)
    if answered != ref_id:
        return _unknown(ref_id, f"answered for ref_id {answered!r}")
    sn = str(data.get("sn") or "")
    detail = data.get("product_detail") if isinstance(data.get("product_detail"), dict) else {}
    try:
        price = rupiah(detail.get("price_rp"))
    except ValueError:
        price = None
    code = {REFUSED: PARTIAL, FAILED: FAILURE, RETRY: UNKNOWN}.get(outcome)
    trx_id = str(data.get("trx_id") or "") or None
    said = str(data.get("message") or f"{trx_id} {status}")
    return SupplierResult(ref_id=ref_id, status=outcome,
                          proof=sn if outcome == DELIVERED else "",
                          message=f"Apigames {status or 'answer'}: {said}", supplier_ref=trx_id,
                          price=price if outcome != FAILED else None, code=code, raw=dict(data))
