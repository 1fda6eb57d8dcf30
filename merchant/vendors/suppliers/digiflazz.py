"""Digiflazz (https://developer.digiflazz.com/api/buyer/): prepaid top-ups over a JSON API.

Every call is a JSON POST with the username and an md5 `sign` in the body. A transaction is
keyed by our `ref_id`: re-sending the same body returns the existing transaction instead of
buying again. That one call is placement, status check and crash-safe retry, so a network
error here is never an exception: it is RETRY, and the worker re-sends the same ref_id.
Digiflazz answers business errors with HTTP 400 and the usual `{"data": {...rc...}}` body.
"""
from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

import requests
from flask_babel import lazy_gettext as _l

from merchant.vendors.callback_schemas import DigiflazzWebhook, read
from merchant.vendors.http import header, send
from merchant.vendors.suppliers.base import (
    DELIVERED,
    FAILED,
    PENDING,
    REFUSED,
    RETRY,
    Delivery,
    ForgedCallback,
    PriceItem,
    Supplier,
    SupplierError,
    SupplierResult,
)

DEFAULT_API_URL = "https://api.digiflazz.com/v1"

# What a Digiflazz rc means for this ref_id (developer.digiflazz.com/api/buyer/response-code).
# Digiflazz's only status check is re-sending the ref_id, so a transaction that was FORMED and
# ended Gagal answers Gagal forever: retrying it cannot help, it is FAILED for this ref_id.
# RETRY is kept for answers where no transaction was formed and time (or a deposit) can help.
RC_OUTCOMES: dict[str, str] = {
    "00": DELIVERED,  # Transaksi Sukses
    "01": FAILED,     # Timeout: formed and Gagal, so a re-send returns the same failure
    "02": FAILED,     # Transaksi Gagal (formed)
    "03": PENDING,    # Transaksi Pending: re-send the same ref_id later to learn the outcome
    "40": REFUSED,    # Payload Error: we sent a wrong type or parameter
    "41": REFUSED,    # Signature tidak valid: wrong API key, or dev key vs production mode
    "42": REFUSED,    # Gagal memproses API Buyer: username is wrong
    "43": FAILED,     # SKU tidak ditemukan atau non-aktif: fix the package's supplier SKU
    "44": RETRY,      # Saldo tidak cukup: not formed; top up the deposit and it goes through
    "45": REFUSED,    # IP tidak dikenali: whitelist the server's IP for this API mode
    "47": FAILED,     # Transaksi sudah terjadi di buyer lain
    "49": REFUSED,    # Ref ID tidak unik: this ref_id exists with another SKU or customer_no
    "50": FAILED,     # Transaksi Tidak Ditemukan (formed)
    "51": FAILED,     # Nomor Tujuan Diblokir (formed)
    "52": FAILED,     # Prefix Tidak Sesuai Dengan Operator (formed)
    "53": FAILED,     # Produk Seller Sedang Tidak Tersedia (formed)
    "54": FAILED,     # Nomor Tujuan Salah: wrong account ID (formed)
    "55": FAILED,     # Produk Sedang Gangguan (formed)
    "56": RETRY,      # Limit saldo seller (deprecated; not formed)
    "57": FAILED,     # Jumlah Digit Kurang Atau Lebih (formed)
    "58": FAILED,     # Sedang Cut Off: formed and Gagal, so a re-send returns the same failure
    "59": FAILED,     # Tujuan di Luar Wilayah/Cluster (formed)
    "60": FAILED,     # Tagihan belum tersedia (formed)
    "61": RETRY,      # Belum pernah melakukan deposit: not formed; make a first deposit
    "62": RETRY,      # Seller sedang mengalami gangguan (not formed)
    "63": FAILED,     # Tidak support transaksi multi
    "64": FAILED,     # Tarik tiket gagal (deposit tickets; not a top-up answer)
    "65": RETRY,      # Limit transaksi multi (deprecated; not formed)
    "66": RETRY,      # Cut Off, perbaikan sistem seller (not formed)
    "67": FAILED,     # Seller belum ter-verifikasi
    "68": RETRY,      # Stok habis (not formed)
    "69": FAILED,     # Harga seller lebih besar dari max_price: raise the limit or the price
    "70": FAILED,     # Timeout Dari Biller (formed)
    "71": FAILED,     # Produk Sedang Tidak Stabil (formed)
    "72": FAILED,     # Lakukan Unreg Paket Dahulu (formed)
    "73": FAILED,     # Kwh Melebihi Batas (formed)
    "74": FAILED,     # Transaksi Refund (formed)
    "80": REFUSED,    # Akun Anda telah diblokir oleh Seller
    "81": REFUSED,    # Seller ini telah diblokir oleh Anda
    "82": REFUSED,    # Akun Anda belum ter-verifikasi
    "83": RETRY,      # Limitasi pengecekan pricelist (price list at most once per 5 minutes)
    "84": FAILED,     # Nominal tidak valid (formed)
    "85": FAILED,     # Limitasi transaksi tercapai: formed per the docs, so this ref_id is spent
    "86": RETRY,      # Limitasi pengecekan nomor PLN
    "87": FAILED,     # Transaksi E-money wajib kelipatan Rp 1.000
    "88": REFUSED,    # Akun Anda tidak dapat melakukan aksi ini
    "99": PENDING,    # DF Router Issue: Digiflazz reports it as Pending
}

# What the operator should fix, for the answers that are our own setup's fault.
_HINTS = {
    "41": "check DIGIFLAZZ_API_KEY (development and production keys differ)",
    "42": "check DIGIFLAZZ_USERNAME",
    "44": "top up the Digiflazz deposit; the order is retried with the same ref_id",
    "45": "whitelist this server's IP in Digiflazz: Atur Koneksi > API",
    "49": "this ref_id was already used with another SKU or customer number",
}


_ACCOUNT_ID = _l("Digiflazz says the account ID is wrong or cannot get this top-up: check it "
                 "with the customer, then deliver by hand or refund.")
_UNAVAILABLE = _l("The product is not available at Digiflazz right now: retry later, retry with "
                  "the fallback supplier, or refund.")
_BLOCKED = _l("Your Digiflazz account cannot buy (blocked or not verified): sort it out with "
              "Digiflazz, then retry.")
_TIMED_OUT = _l("Digiflazz timed out or was in its cut-off time: retry later.")
# rc -> what the operator does about it (see RC_OUTCOMES for what each rc means).
RC_ADVICE = {
    "01": _TIMED_OUT, "58": _TIMED_OUT, "66": _TIMED_OUT, "70": _TIMED_OUT,
    "41": _l("Digiflazz refused the signature: check DIGIFLAZZ_API_KEY (the development and "
             "production keys differ), then retry."),
    "42": _l("Digiflazz does not know the username: check DIGIFLAZZ_USERNAME, then retry."),
    "43": _l("Digiflazz does not know this package's SKU, or it is inactive: fix this package's "
             "SKU in the catalog, then retry."),
    "44": _l("Your Digiflazz balance is too low: top up your supplier deposit, then retry."),
    "61": _l("You have never made a deposit at Digiflazz: top up your supplier deposit, then "
             "retry."),
    "45": _l("Digiflazz does not know this server's IP: add it in Digiflazz under Atur Koneksi > "
             "API, then retry."),
    "51": _ACCOUNT_ID, "52": _ACCOUNT_ID, "54": _ACCOUNT_ID, "57": _ACCOUNT_ID,
    "59": _ACCOUNT_ID,
    "53": _UNAVAILABLE, "55": _UNAVAILABLE, "62": _UNAVAILABLE, "68": _UNAVAILABLE,
    "71": _UNAVAILABLE,
    "67": _BLOCKED, "80": _BLOCKED, "82": _BLOCKED, "88": _BLOCKED,
    "69": _l("Digiflazz's price is above the most you pay (the package's supplier cost): raise "
             "the supplier cost or the price, then retry."),
}


def customer_no(account: Mapping[str, str]) -> str:
    """Digiflazz's `customer_no` for an account: its field values joined in order, no separator.

    Games with a zone are sent as user_id followed directly by zone_id (Mobile Legends
    {"user_id": "123456789", "zone_id": "1234"} -> "1234567891234"); single-field products
    (phone number, TikTok username, UID) are the value itself. Whitespace is trimmed.
    """
    return "".join(str(value).strip() for value in account.values())


def _sign(*parts: str) -> str:
    return hashlib.md5("".join(parts).encode()).hexdigest()


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def _int(value: Any) -> int:
    """Whole rupiah from Digiflazz's numbers, which arrive as int, float or string."""
    if isinstance(value, bool):
        raise ValueError("not a number")
    if isinstance(value, int):
        return value
    return int(round(float(value)))



class DigiflazzSupplier(Supplier):
    name = "digiflazz"
    required_settings = ("DIGIFLAZZ_USERNAME", "DIGIFLAZZ_API_KEY")
    ADVICE = RC_ADVICE
    # Digiflazz buys anew for a ref_id re-sent after 90 days (topupstatus page): stop at 85.
    safe_window_days = 85
    price_list_every = 300       # rc 83 when asked more often

    @property
    def _username(self) -> str:
        return str(self.settings["DIGIFLAZZ_USERNAME"])

    @property
    def _api_key(self) -> str:
        return str(self.settings["DIGIFLAZZ_API_KEY"])

    def _url(self, path: str) -> str:
        base = self.settings.get("DIGIFLAZZ_API_URL") or DEFAULT_API_URL
        return base.rstrip("/") + path

    def _post(self, path: str, body: dict) -> requests.Response:
        """POST one JSON body. :raise SupplierError: no answer in time, or not reached."""
        return send(self.http, "POST", self._url(path), vendor="Digiflazz", what=f"POST {path}",
                    timeout=self.timeout, error=SupplierError, json=body)

    def transaction_body(self, delivery: Delivery) -> dict:
        """The exact JSON body for /transaction; the same every time for one delivery."""
        body = {
            "username": self._username,
            "buyer_sku_code": delivery.sku,
            "customer_no": customer_no(delivery.account),
            "ref_id": delivery.ref_id,
            "sign": _sign(self._username, self._api_key, delivery.ref_id),
        }
        if _truthy(self.settings.get("DIGIFLAZZ_TESTING", False)):
            body["testing"] = True
        if delivery.max_price is not None:
            body["max_price"] = int(delivery.max_price)
        return body

    def place(self, delivery: Delivery) -> SupplierResult:
        """Buy, or with the same ref_id learn the existing transaction's state.

        Never raises for transport problems: a timeout or an unreadable answer is RETRY,
        because re-sending the same ref_id cannot buy twice.
        """
        try:
            response = self._post("/transaction", self.transaction_body(delivery))
        except SupplierError as exc:
            return SupplierResult(delivery.ref_id, RETRY, message=f"{exc}; the same ref_id "
                                  "will be re-sent as if not reached")
        data = _data(response)
        if not isinstance(data, dict):
            return SupplierResult(
                delivery.ref_id, RETRY,
                message=f"Digiflazz answered HTTP {response.status_code} without a readable "
                        f"transaction: {response.text[:200]!r}")
        return self._result(data, delivery.ref_id)

    def _result(self, data: Mapping, ref_id: str, event_id: str | None = None) -> SupplierResult:
        answered_ref = str(data.get("ref_id") or ref_id)
        if answered_ref != ref_id:
            return SupplierResult(
                ref_id, RETRY, event_id=event_id, raw=dict(data),
                message=f"Digiflazz answered for ref_id {answered_ref!r}, not {ref_id!r}")
        rc = str(data.get("rc") or "")
        said = str(data.get("message") or "")
        status = str(data.get("status") or "")
        sn = str(data.get("sn") or "")
        if status == "Sukses":
            outcome = DELIVERED
        elif status == "Pending":
            outcome = PENDING
        elif status == "Gagal":
            outcome = RC_OUTCOMES.get(rc, FAILED)
            if outcome in (DELIVERED, PENDING):      # a Gagal status always wins over its rc
                outcome = FAILED
        elif rc in RC_OUTCOMES:
            outcome = RC_OUTCOMES[rc]
        else:
            outcome = RETRY
            said = f"unexpected answer (status {status!r}): {said}"
        message = f"Digiflazz {status or 'answer'} rc {rc or '-'}: {said}".strip()
        if rc in _HINTS and outcome != DELIVERED:
            message += f" ({_HINTS[rc]})"
        try:
            balance = _int(data["buyer_last_saldo"])
        except (KeyError, TypeError, ValueError):
            balance = None
        price = None
        if outcome in (DELIVERED, PENDING):    # a Gagal transaction is refunded: nothing charged
            try:
                price = _int(data["price"])
            except (KeyError, TypeError, ValueError):
                price = None
        return SupplierResult(
            ref_id=ref_id,
            status=outcome,
            proof=sn if outcome == DELIVERED else "",
            message=message,
            supplier_ref=ref_id,            # Digiflazz keys its transactions by our ref_id
            price=price,
            code=rc or None,
            event_id=event_id,
            raw=dict(data),
            balance=balance,
        )

    def balance(self) -> int:
        """The deposit left with Digiflazz, whole rupiah. :raise SupplierError: on any failure."""
        body = {"cmd": "deposit", "username": self._username,
                "sign": _sign(self._username, self._api_key, "depo")}
        data = self._call("/cek-saldo", body, "balance")
        if not isinstance(data, dict) or "deposit" not in data:
            raise SupplierError(_refusal("balance", data))
        try:
            return _int(data["deposit"])
        except (TypeError, ValueError) as exc:
            raise SupplierError(
                f"Digiflazz balance: unreadable deposit {data['deposit']!r}") from exc

    def price_list(self) -> list[PriceItem]:
        """All prepaid products with their current price. Digiflazz allows this about once
        per 5 minutes: cache the result. :raise SupplierError: on any failure or refusal.
        """
        body = {"cmd": "prepaid", "username": self._username,
                "sign": _sign(self._username, self._api_key, "pricelist")}
        data = self._call("/price-list", body, "price list")
        if not isinstance(data, list):
            raise SupplierError(_refusal("price list", data))
        items = []
        for row in data:
            if not isinstance(row, dict) or not row.get("buyer_sku_code"):
                continue
            try:
                items.append(PriceItem(
                    sku=str(row["buyer_sku_code"]),
                    product_name=str(row.get("product_name") or ""),
                    category=str(row.get("category") or ""),
                    brand=str(row.get("brand") or ""),
                    type=str(row.get("type") or ""),
                    seller_name=str(row.get("seller_name") or ""),
                    price=_int(row["price"]),
                    buyer_product_status=_truthy(row.get("buyer_product_status")),
                    seller_product_status=_truthy(row.get("seller_product_status")),
                    unlimited_stock=_truthy(row.get("unlimited_stock")),
                    stock=_int(row.get("stock") or 0),
                    desc=str(row.get("desc") or ""),
                    start_cut_off=str(row.get("start_cut_off") or ""),
                    end_cut_off=str(row.get("end_cut_off") or ""),
                ))
            except (KeyError, TypeError, ValueError) as exc:
                raise SupplierError(
                    f"Digiflazz price list: unreadable product {row.get('buyer_sku_code')!r} "
                    f"({exc})") from exc
        return items

    def _call(self, path: str, body: dict, what: str) -> Any:
        response = self._post(path, body)
        data = _data(response)
        if data is None:
            raise SupplierError(f"Digiflazz {what}: HTTP {response.status_code}, unreadable "
                                f"answer {response.text[:200]!r}")
        return data

    def parse_callback(self, body: bytes, headers: Mapping[str, str]) -> SupplierResult:
        """Verify a webhook (X-Hub-Signature: sha1=HMAC-SHA1 of the raw body under
        DIGIFLAZZ_WEBHOOK_SECRET) and read it like a /transaction answer.
        :raise ForgedCallback: missing secret, missing or wrong signature.
        :raise SupplierError: a signed body that is not a transaction event.
        """
        secret = self.settings.get("DIGIFLAZZ_WEBHOOK_SECRET")
        if not secret:
            raise ForgedCallback("Digiflazz webhook received but DIGIFLAZZ_WEBHOOK_SECRET is not "
                                 "set: set it to the secret of the webhook in Digiflazz")
        given = header(headers, "X-Hub-Signature")
        if not given:
            raise ForgedCallback("Digiflazz webhook without X-Hub-Signature")
        expected = "sha1=" + hmac.new(str(secret).encode(), body, hashlib.sha1).hexdigest()
        if not hmac.compare_digest(expected.encode(), given.strip().encode("utf-8", "replace")):
            raise ForgedCallback("Digiflazz webhook X-Hub-Signature does not match")
        data = read(DigiflazzWebhook, body, "Digiflazz webhook").get("data")
        if not isinstance(data, dict) or not data.get("ref_id"):
            raise SupplierError("Digiflazz webhook carries no transaction (a ping?)")
        ref_id = str(data["ref_id"])
        event_id = header(headers, "X-Digiflazz-Delivery")
        if not event_id:
            # The delivery id is not in Digiflazz's published header list: fall back to a key
            # that is the same for every repeat of one transaction state.
            event_id = f"{ref_id}:{data.get('status')}:{data.get('rc')}"
        return self._result(data, ref_id, event_id=event_id)


def _data(response: requests.Response) -> Any:
    """The `data` member of a Digiflazz answer, whatever the HTTP status; None if unreadable."""
    try:
        payload = response.json()
    except ValueError:
        return None
    return payload.get("data") if isinstance(payload, dict) else None


def _refusal(what: str, data: Any) -> str:
    if isinstance(data, dict) and (data.get("rc") or data.get("message")):
        rc = str(data.get("rc") or "-")
        hint = f" ({_HINTS[rc]})" if rc in _HINTS else ""
        return f"Digiflazz {what}: rc {rc}: {data.get('message') or ''}{hint}"
    return f"Digiflazz {what}: unexpected answer {str(data)[:200]!r}"
