"""Midtrans: Snap (hosted payment page) for most methods, Core API `/v2/charge` for QRIS.

Auth is HTTP Basic with the server key as user and an empty password. Notifications are
JSON POSTs carrying `signature_key = sha512_hex(order_id + status_code + gross_amount +
server_key)` over the exact strings received.
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import math
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

from merchant.core import clock
from merchant.vendors.callback_schemas import MidtransNotification, read
from merchant.vendors.http import send
from merchant.vendors.payments.base import (
    EXPIRED,
    FAILED,
    PAID,
    PENDING,
    REFUNDED,
    Checkout,
    ForgedCallback,
    Gateway,
    PaymentError,
    PaymentRequest,
    PaymentUpdate,
    Refund,
    RefundRequest,
    Unservable,
)

DEFAULT_API_URL = "https://api.sandbox.midtrans.com"
DEFAULT_SNAP_URL = "https://app.sandbox.midtrans.com"

# Our method codes -> Snap `enabled_payments` values (Midtrans "Supported Payment Channels").
SNAP_PAYMENTS = {
    "GOPAY": "gopay",
    "SHOPEEPAY": "shopeepay",
    "OVO": "ovo",
    "DANA": "dana",
    "CARD": "credit_card",
    "BCA_VA": "bca_va",
    "BNI_VA": "bni_va",
    "BRI_VA": "bri_va",
    "PERMATA_VA": "permata_va",
    "CIMB_VA": "cimb_va",
    "MANDIRI_BILL": "echannel",
    "OTHER_VA": "other_va",
    "INDOMARET": "indomaret",
    "ALFAMART": "alfamart",
    "AKULAKU": "akulaku",
    "KREDIVO": "kredivo",
}
QRIS = "QRIS"

# Our methods whose payments POST /v2/{order_id}/refund can refund: Midtrans's Refund Transaction
# reference lists credit_card, gopay, shopeepay, dana, ovo, QRIS, kredivo and akulaku. Bank
# transfers (VA, Mandiri bill) and convenience stores have no refund API: refund those by hand.
REFUNDABLE = frozenset({"CARD", "GOPAY", "SHOPEEPAY", "DANA", "OVO", QRIS, "KREDIVO", "AKULAKU"})

# Midtrans writes times in Western Indonesia Time without an offset.
WIB = dt.timezone(dt.timedelta(hours=7))

STATUSES = {
    "settlement": PAID,
    "pending": PENDING,
    "authorize": PENDING,
    "deny": FAILED,
    "cancel": FAILED,
    "failure": FAILED,
    "expire": EXPIRED,
    "refund": REFUNDED,
    "partial_refund": REFUNDED,
}


def signature(order_id: str, status_code: str, gross_amount: str, server_key: str) -> str:
    """Midtrans's notification signature: SHA-512 hex of the four strings concatenated."""
    return hashlib.sha512(
        (order_id + status_code + gross_amount + server_key).encode("utf-8")
    ).hexdigest()


def parse_rupiah(value: Any) -> int:
    """Whole rupiah from Midtrans's `gross_amount` ("650000.00"). :raise PaymentError: otherwise."""
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise PaymentError(f"Midtrans sent an amount that is not a number: {value!r}") from None
    if not amount.is_finite() or amount != amount.to_integral_value() or amount < 0:
        raise PaymentError(f"Midtrans sent an amount that is not whole rupiah: {value!r}")
    return int(amount)


def status_of(transaction_status: str, fraud_status: str | None) -> str:
    """Our status for a Midtrans transaction_status (+ fraud_status for card captures)."""
    if transaction_status == "capture":
        if fraud_status in (None, "", "accept"):
            return PAID
        return FAILED if fraud_status == "deny" else PENDING  # "challenge": operator decides
    return STATUSES.get(transaction_status, PENDING)


def _wib_text(moment: dt.datetime) -> str:
    return moment.astimezone(WIB).strftime("%Y-%m-%d %H:%M:%S %z")


def _utc_naive(expiry_time: str | None) -> dt.datetime | None:
    if not expiry_time:
        return None
    try:
        local = dt.datetime.strptime(expiry_time, "%Y-%m-%d %H:%M:%S").replace(tzinfo=WIB)
    except ValueError:
        return None
    return local.astimezone(dt.UTC).replace(tzinfo=None)


class MidtransGateway(Gateway):
    """Midtrans Snap + Core API (QRIS)."""

    name = "midtrans"
    channels = {QRIS: "qris", **SNAP_PAYMENTS}
    required_settings = ("MIDTRANS_SERVER_KEY",)

    # -- plumbing -----------------------------------------------------------------------------
    @property
    def _server_key(self) -> str:
        key = self.settings.get("MIDTRANS_SERVER_KEY")
        if not key:
            raise Unservable("MIDTRANS_SERVER_KEY is not set: copy the Server Key from the "
                               "Midtrans dashboard (Settings > Access Keys)")
        return key

    @property
    def _api_url(self) -> str:
        return (self.settings.get("MIDTRANS_API_URL") or DEFAULT_API_URL).rstrip("/")

    @property
    def _snap_url(self) -> str:
        return (self.settings.get("MIDTRANS_SNAP_URL") or DEFAULT_SNAP_URL).rstrip("/")

    def _call(self, method: str, url: str, what: str, payload: dict | None = None,
              notify_url: str | None = None) -> tuple[int, dict]:
        """One HTTP call; returns (HTTP status, JSON body). Transport trouble -> PaymentError."""
        token = base64.b64encode(f"{self._server_key}:".encode()).decode()
        headers = {"Authorization": f"Basic {token}", "Accept": "application/json"}
        if payload is not None:
            headers["Content-Type"] = "application/json"
        if notify_url:
            headers["X-Override-Notification"] = notify_url
        response = send(self.http, method, url, vendor="Midtrans",
                        what=f"{method} {urlsplit(url).path}", timeout=self.timeout,
                        error=PaymentError, json=payload, headers=headers)
        if response.status_code >= 500:
            raise PaymentError(f"Midtrans failed {what} (HTTP {response.status_code}): "
                               f"{response.text[:300]}")
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise PaymentError(f"Midtrans answered {what} with HTTP {response.status_code} "
                               f"and a body that is not a JSON object: {response.text[:300]!r}")
        return response.status_code, body

    @staticmethod
    def _refusal(what: str, http_status: int, body: dict) -> PaymentError:
        messages = body.get("error_messages") or body.get("validation_messages") or []
        text = "; ".join(str(m) for m in messages) or body.get("status_message") or body
        code = body.get("status_code") or http_status
        return PaymentError(f"Midtrans refused {what} (status {code}): {text}")

    # -- Gateway ------------------------------------------------------------------------------
    def create_payment(self, request: PaymentRequest) -> Checkout:
        """QRIS -> Core API charge (QR payload); every other method -> a Snap redirect page."""
        if request.currency != "IDR":
            raise Unservable(f"Midtrans only takes IDR, not {request.currency}")
        if request.method != QRIS and request.method not in SNAP_PAYMENTS:
            raise Unservable(f"Midtrans has no payment method for our code {request.method!r}; "
                               f"use one of QRIS, {', '.join(SNAP_PAYMENTS)}")
        now = clock.now().replace(tzinfo=dt.UTC)
        seconds = (request.expires_at.replace(tzinfo=dt.UTC) - now).total_seconds()
        if seconds <= 0:
            raise PaymentError(f"the order's payment expiry ({request.expires_at:%Y-%m-%d %H:%M}"
                               " UTC) has already passed")
        minutes = math.ceil(seconds / 60)
        body: dict[str, Any] = {
            "transaction_details": {"order_id": request.ref, "gross_amount": request.amount},
            "item_details": [{"id": request.ref, "price": request.amount, "quantity": 1,
                              "name": request.description[:50]}],
        }
        customer = {k: v for k, v in (("first_name", request.customer_name),
                                      ("email", request.email),
                                      ("phone", request.phone)) if v}
        if customer:
            body["customer_details"] = customer
        if request.method == QRIS:
            return self._charge_qris(request, body, now, minutes)
        body["enabled_payments"] = [self.vendor_method(request.method, "Midtrans")]
        body["expiry"] = {"start_time": _wib_text(now), "unit": "minute", "duration": minutes}
        body["callbacks"] = {"finish": request.return_url}
        status, reply = self._call("POST", f"{self._snap_url}/snap/v1/transactions",
                                   "the Snap transaction", body, request.callback_url)
        if status not in (200, 201) or not reply.get("redirect_url"):
            raise self._refusal("the Snap transaction", status, reply)
        # Snap answers with a token only: the order id is what notifications and status use.
        return Checkout(gateway_ref=request.ref, checkout_url=reply["redirect_url"],
                        expires_at=request.expires_at)

    def _charge_qris(self, request: PaymentRequest, body: dict, now: dt.datetime,
                     minutes: int) -> Checkout:
        body = {"payment_type": "qris", **body,
                "custom_expiry": {"order_time": _wib_text(now), "expiry_duration": minutes,
                                  "unit": "minute"}}
        status, reply = self._call("POST", f"{self._api_url}/v2/charge", "the QRIS charge",
                                   body, request.callback_url)
        # Core API errors may come with HTTP 200 and the real code in the body.
        if not str(reply.get("status_code", status)).startswith("2") or status >= 300:
            raise self._refusal("the QRIS charge", status, reply)
        if not reply.get("qr_string") or not reply.get("transaction_id"):
            raise PaymentError(f"Midtrans created the QRIS charge but sent no qr_string or "
                               f"transaction_id: {json.dumps(reply)[:300]}")
        return Checkout(gateway_ref=reply["transaction_id"], qr_string=reply["qr_string"],
                        expires_at=_utc_naive(reply.get("expiry_time")) or request.expires_at)

    def parse_callback(self, body: bytes, headers: Mapping[str, str]) -> PaymentUpdate:
        """Verify a notification's signature_key and translate it. :raise ForgedCallback:"""
        try:
            note = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise ForgedCallback("Midtrans notification is not JSON") from None
        if not isinstance(note, dict):
            raise ForgedCallback("Midtrans notification is not a JSON object")
        fields = [note.get(k) for k in ("order_id", "status_code", "gross_amount",
                                        "signature_key")]
        if not all(isinstance(f, str) and f for f in fields):
            raise ForgedCallback("Midtrans notification lacks order_id, status_code, "
                                 "gross_amount or signature_key")
        order_id, status_code, gross_amount, given = fields
        expected = signature(order_id, status_code, gross_amount, self._server_key)
        if not hmac.compare_digest(expected, given.lower()):
            raise ForgedCallback(f"Midtrans notification for {order_id} has a wrong "
                                 "signature_key (is MIDTRANS_SERVER_KEY the right one?)")
        return self._update(read(MidtransNotification, body, "Midtrans notification"), event=True)

    def _update(self, note: dict, event: bool) -> PaymentUpdate:
        transaction_status = str(note.get("transaction_status") or "")
        fraud_status = note.get("fraud_status")
        status = status_of(transaction_status, fraud_status)
        detail = f"Midtrans {transaction_status}"
        if fraud_status and fraud_status != "accept":
            detail += f" (fraud {fraud_status})"
        if note.get("payment_type"):
            detail += f" via {note['payment_type']}"
        if transaction_status not in STATUSES and transaction_status != "capture":
            detail = f"Midtrans sent an unknown transaction_status {transaction_status!r}"
        order_id = str(note.get("order_id") or "")
        gross = note.get("gross_amount")
        return PaymentUpdate(
            order_ref=order_id,
            status=status,
            amount=parse_rupiah(gross) if gross is not None else None,
            currency=note.get("currency") or "IDR",
            gateway_ref=note.get("transaction_id"),
            event_id=f"{order_id}:{transaction_status}" if event else None,
            detail=detail,
            raw=note,
        )

    def query(self, ref: str, gateway_ref: str | None) -> PaymentUpdate | None:
        """GET /v2/{order_id}/status; None until the customer picked a method (404)."""
        status, reply = self._call("GET", f"{self._api_url}/v2/{ref}/status",
                                   f"the status of {ref}")
        code = str(reply.get("status_code", status))
        if status == 404 or code == "404":
            return None
        if status >= 300 or not reply.get("transaction_status"):
            raise self._refusal(f"the status of {ref}", status, reply)
        return self._update(reply, event=False)

    def can_refund(self, method: str) -> bool:
        """Whether Midtrans refunds payments made with our `method` through its API."""
        return method in REFUNDABLE

    def refund(self, request: RefundRequest) -> Refund:
        """POST /v2/{order_id}/refund for the whole amount with refund_key `<ref>-refund`.

        Midtrans treats a repeated refund_key as a retry of the same refund, not a new one.
        :raise PaymentError: the method has no refund, Midtrans refused, or it was unreachable.
        """
        if not self.can_refund(request.method):
            raise PaymentError(f"Midtrans cannot refund {request.method} payments through its "
                               "API; give the money back another way and record a manual refund")
        if request.currency != "IDR":
            raise PaymentError(f"Midtrans only takes IDR, not {request.currency}")
        key = f"{request.ref}-refund"
        body: dict[str, Any] = {"refund_key": key, "amount": request.amount}
        if request.reason:
            body["reason"] = request.reason[:255]
        what = f"the refund of {request.ref}"
        status, reply = self._call("POST", f"{self._api_url}/v2/{request.ref}/refund", what, body)
        # Core API errors may come with HTTP 200 and the real code in the body.
        if status >= 300 or not str(reply.get("status_code", status)).startswith("2"):
            raise self._refusal(what, status, reply)
        done = reply.get("transaction_status") in ("refund", "partial_refund")
        refund_key = str(reply.get("refund_key") or key)
        # refund_key is Midtrans's id for the refund (refund_chargeback_id only counts refunds
        # within one transaction: 1, 2, ...).
        return Refund(refund_ref=refund_key, status=REFUNDED if done else PENDING,
                      detail=f"Midtrans refund {refund_key} (chargeback "
                             f"{reply.get('refund_chargeback_id')}): "
                             f"{reply.get('status_message') or reply.get('transaction_status')}")

    def expire(self, ref: str, gateway_ref: str | None) -> None:
        """POST /v2/{order_id}/expire; nothing to do when Midtrans has no transaction yet."""
        status, reply = self._call("POST", f"{self._api_url}/v2/{ref}/expire",
                                   f"expiring {ref}")
        code = str(reply.get("status_code", status))
        if status == 404 or code in ("404", "407") or code.startswith("2"):
            return
        raise self._refusal(f"expiring {ref}", status, reply)
