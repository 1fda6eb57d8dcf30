"""Tripay closed payments: one single-use pay code, QR or e-wallet link per order (IDR only).

Amounts: Tripay may charge its fee to the customer (`fee_customer`), in which case the amount the
customer pays (`total_amount` in callbacks, `amount` in transaction details) is our amount plus
that fee. The amount we asked for is therefore total - fee_customer (equally amount_received +
fee_merchant), and that is what PaymentUpdate.amount reports, so it compares with the order total.

Refunds: Tripay's API has no refund endpoint (its REFUND status only arrives in callbacks), so
the gateway keeps the base class's can_refund False and the operator records a manual refund.
"""
from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import hmac
from collections.abc import Mapping

from merchant.vendors.callback_schemas import TripayCallback, read
from merchant.vendors.http import header, send
from merchant.vendors.payments.base import (
    EXPIRED,
    FAILED,
    PAID,
    PENDING,
    REFUNDED,
    CallbackReply,
    Checkout,
    ForgedCallback,
    Gateway,
    PaymentError,
    PaymentRequest,
    PaymentUpdate,
    Unservable,
)

DEFAULT_API_URL = "https://tripay.co.id/api-sandbox/"   # production: https://tripay.co.id/api/

# Our payment method codes -> Tripay closed-payment channel codes. Tripay has no GoPay channel
# (GoPay users pay by QRIS); map GOPAY, or QRIS to "QRISC"/"QRIS2", in TRIPAY_METHODS if needed.
METHODS = {
    "QRIS": "QRIS",
    "BCA_VA": "BCAVA",
    "BRI_VA": "BRIVA",
    "BNI_VA": "BNIVA",
    "MANDIRI_VA": "MANDIRIVA",
    "PERMATA_VA": "PERMATAVA",
    "BSI_VA": "BSIVA",
    "CIMB_VA": "CIMBVA",
    "MAYBANK_VA": "MYBVA",
    "OVO": "OVO",
    "DANA": "DANA",
    "SHOPEEPAY": "SHOPEEPAY",
    "ALFAMART": "ALFAMART",
    "ALFAMIDI": "ALFAMIDI",
    "INDOMARET": "INDOMARET",
}

STATUSES = {
    "UNPAID": PENDING,
    "PAID": PAID,
    "FAILED": FAILED,
    "EXPIRED": EXPIRED,
    "REFUND": REFUNDED,
}


class TripayGateway(Gateway):
    name = "tripay"
    channels = METHODS
    channels_setting = "TRIPAY_METHODS"
    required_settings = ("TRIPAY_API_KEY", "TRIPAY_PRIVATE_KEY", "TRIPAY_MERCHANT_CODE")

    def create_payment(self, request: PaymentRequest) -> Checkout:
        """POST transaction/create, signed with HMAC-SHA256(merchant_code + ref + amount)."""
        if request.currency != "IDR":
            raise Unservable(f"Tripay takes IDR only, not {request.currency}")
        email = request.email or self.settings.get("TRIPAY_CUSTOMER_EMAIL")
        if not email:
            raise Unservable(
                f"Tripay needs a customer email and order {request.ref} has none; "
                "set TRIPAY_CUSTOMER_EMAIL (e.g. the shop's address) as the fallback"
            )
        body = {
            "method": self.vendor_method(request.method, "Tripay"),
            "merchant_ref": request.ref,
            "amount": request.amount,
            "customer_name": request.customer_name or "Customer",
            "customer_email": email,
            "order_items": [
                {"sku": request.ref, "name": request.description[:255],
                 "price": request.amount, "quantity": 1},
            ],
            "callback_url": request.callback_url,
            "return_url": request.return_url,
            "expired_time": calendar.timegm(request.expires_at.utctimetuple()),
            "signature": signature(
                self.settings["TRIPAY_PRIVATE_KEY"],
                f"{self.settings['TRIPAY_MERCHANT_CODE']}{request.ref}{request.amount}",
            ),
        }
        if request.phone:
            body["customer_phone"] = request.phone
        data = self._call("POST", "transaction/create", json=body)
        if not isinstance(data, dict) or not data.get("reference"):
            raise PaymentError(f"Tripay transaction/create: no reference in {data!r:.300}")
        expires = data.get("expired_time")
        return Checkout(
            gateway_ref=data["reference"],
            checkout_url=data.get("checkout_url") or data.get("pay_url"),
            qr_string=data.get("qr_string") or None,
            pay_code=None if data.get("pay_code") is None else str(data["pay_code"]),
            expires_at=_from_unix(expires) if isinstance(expires, int) else None,
        )

    def parse_callback(self, body: bytes, headers: Mapping[str, str]) -> PaymentUpdate:
        """Check X-Callback-Signature (HMAC-SHA256 of the raw body), then translate it."""
        given = header(headers, "X-Callback-Signature")
        if given is None:
            raise ForgedCallback("Tripay callback without X-Callback-Signature header")
        expected = signature(self.settings["TRIPAY_PRIVATE_KEY"], body)
        if not hmac.compare_digest(given.strip().lower().encode(), expected.encode()):
            raise ForgedCallback("Tripay callback signature does not match TRIPAY_PRIVATE_KEY")
        event = header(headers, "X-Callback-Event")
        if event != "payment_status":
            raise PaymentError(f"Tripay callback event {event!r} is not payment_status")
        return _update(read(TripayCallback, body, "Tripay callback"), amount_key="total_amount")

    def query(self, ref: str, gateway_ref: str | None) -> PaymentUpdate | None:
        """GET transaction/detail by reference, or the merchant list by merchant_ref."""
        if gateway_ref:
            data = self._call("GET", "transaction/detail", params={"reference": gateway_ref},
                              missing_ok=True)
            return None if data is None else _update(data, amount_key="amount")
        found = self._call("GET", "merchant/transactions", params={"merchant_ref": ref},
                           missing_ok=True)
        if not found:
            return None
        if not isinstance(found, list) or not all(isinstance(t, dict) for t in found):
            raise PaymentError(f"Tripay merchant/transactions: not a list: {found!r:.300}")
        paid = [t for t in found if t.get("status") == "PAID"]
        return _update((paid or found)[0], amount_key="amount")

    def expire(self, ref: str, gateway_ref: str | None) -> None:
        """Nothing to do: Tripay has no cancel endpoint for closed payments; they lapse at
        `expired_time` and Tripay then sends an EXPIRED callback."""

    def callback_reply(self, update: PaymentUpdate | None) -> CallbackReply:
        """Tripay counts a delivery as done only when the reply is JSON with success true."""
        return CallbackReply(body='{"success": true}', content_type="application/json")

    def _call(self, verb: str, path: str, missing_ok: bool = False, **kwargs):
        """One request with the Bearer API key; the reply's `data`, None on 404 if `missing_ok`."""
        base = (self.settings.get("TRIPAY_API_URL") or DEFAULT_API_URL).rstrip("/")
        what = f"Tripay {verb} {path}"
        headers = {"Authorization": f"Bearer {self.settings['TRIPAY_API_KEY']}"}
        response = send(self.http, verb, f"{base}/{path}", vendor="Tripay", what=f"{verb} {path}",
                        timeout=self.timeout, error=PaymentError, headers=headers, **kwargs)
        try:
            reply = response.json()
        except ValueError:
            reply = None
        if missing_ok and (response.status_code == 404 or _says_not_found(reply)):
            return None
        if not 200 <= response.status_code < 300 or not isinstance(reply, dict):
            raise PaymentError(f"{what}: HTTP {response.status_code}: {response.text[:300]!r}")
        if reply.get("success") is not True:
            raise PaymentError(f"{what}: Tripay refused: {reply.get('message')!r}")
        return reply.get("data")


def signature(private_key: str, message: str | bytes) -> str:
    """Tripay's signatures: hex HMAC-SHA256 under the merchant's private key."""
    if isinstance(message, str):
        message = message.encode()
    return hmac.new(private_key.encode(), message, hashlib.sha256).hexdigest()


def _update(data: Mapping, amount_key: str) -> PaymentUpdate:
    """A callback body or transaction detail as a PaymentUpdate (see the module docstring)."""
    try:
        reference, ref, status = data["reference"], data["merchant_ref"], data["status"]
    except (KeyError, TypeError):
        shown = repr(data)[:300]
        raise PaymentError(f"Tripay reply lacks reference/merchant_ref/status: {shown}") from None
    total, fee_customer = data.get(amount_key), data.get("fee_customer") or 0
    if total is not None and not (isinstance(total, int) and isinstance(fee_customer, int)):
        raise PaymentError(f"Tripay amounts are not whole rupiah: {total!r} / {fee_customer!r}")
    method = data.get("payment_method_code") or data.get("payment_method")
    return PaymentUpdate(
        order_ref=ref,
        status=STATUSES.get(status, PENDING),
        amount=None if total is None else total - fee_customer,
        currency="IDR",
        gateway_ref=reference,
        event_id=f"{reference}:{status}",
        detail=f"Tripay {reference} {status}" + (f" via {method}" if method else ""),
        raw=dict(data),
    )


def _says_not_found(reply) -> bool:
    return (isinstance(reply, dict) and reply.get("success") is False
            and "not found" in str(reply.get("message", "")).lower())



def _from_unix(seconds: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, dt.UTC).replace(tzinfo=None)
