"""Xendit Invoices: a hosted payment page per order.

Xendit takes amounts in major units (IDR whole rupiah, PHP/THB/MYR with two decimals) and
sends callbacks to the URL set in the dashboard (Settings > Webhooks > "Invoices paid"), not
to a per-invoice URL, so PaymentRequest.callback_url is not sent. Callbacks carry the
dashboard's verification token in `x-callback-token`; there is no HMAC.
"""
from __future__ import annotations

import datetime as dt
import hmac
import json
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation

from merchant.core import clock
from merchant.vendors.callback_schemas import XenditInvoice, read
from merchant.vendors.http import header, send
from merchant.vendors.payments.base import (
    EXPIRED,
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
)

DEFAULT_API_URL = "https://api.xendit.co"

# Digits after the decimal point in Xendit's amounts, per invoice currency.
EXPONENTS = {"IDR": 0, "VND": 0, "PHP": 2, "THB": 2, "MYR": 2, "USD": 2, "SGD": 2}

# Our payment method codes -> Xendit Invoice `payment_methods` channel names.
# Xendit Invoices offer no GoPay channel, so GOPAY is deliberately absent.
METHODS = {
    "QRIS": "QRIS",
    "OVO": "OVO",
    "DANA": "DANA",
    "SHOPEEPAY": "SHOPEEPAY",
    "LINKAJA": "LINKAJA",
    "ASTRAPAY": "ASTRAPAY",
    "JENIUSPAY": "JENIUSPAY",
    "BCA_VA": "BCA",
    "BNI_VA": "BNI",
    "BRI_VA": "BRI",
    "MANDIRI_VA": "MANDIRI",
    "PERMATA_VA": "PERMATA",
    "BSI_VA": "BSI",
    "BJB_VA": "BJB",
    "CIMB_VA": "CIMB",
    "ALFAMART": "ALFAMART",
    "INDOMARET": "INDOMARET",
    "CARD": "CREDIT_CARD",
    "GCASH": "GCASH",
    "GRABPAY": "GRABPAY",
    "PAYMAYA": "PAYMAYA",
}

# Invoice channels the Refunds API (POST /refunds with invoice_id) can refund. Xendit's refund
# channel list: cards, QRIS (some issuers only: others answer REFUND_NOT_SUPPORTED) and e-wallets
# except OVO one-time payments and AstraPay (what an invoice takes); virtual accounts and
# retail outlets have no refund: the money goes back by transfer, recorded as a manual refund.
REFUNDABLE = frozenset({"CREDIT_CARD", "QRIS", "DANA", "SHOPEEPAY", "LINKAJA", "GCASH", "GRABPAY",
                        "PAYMAYA"})
REFUND_STATUSES = {"SUCCEEDED": REFUNDED, "PENDING": PENDING}

STATUSES = {
    "PENDING": PENDING,
    "COMPLETING": PENDING,
    "REMINDER": PENDING,
    "PAID": PAID,
    "SETTLED": PAID,
    "EXPIRED": EXPIRED,
}


class XenditGateway(Gateway):
    name = "xendit"
    channels = METHODS
    channels_setting = "XENDIT_METHODS"
    required_settings = ("XENDIT_SECRET_KEY", "XENDIT_CALLBACK_TOKEN")

    def create_payment(self, request: PaymentRequest) -> Checkout:
        """Create an invoice; the customer pays on its `invoice_url`."""
        seconds = int((request.expires_at - clock.now()).total_seconds())
        if seconds < 1:
            raise PaymentError(f"Xendit invoice for {request.ref}: expiry is already past")
        body = {
            "external_id": request.ref,
            "amount": _to_major(request.amount, request.currency),
            "currency": request.currency,
            "description": request.description,
            "invoice_duration": seconds,
            "success_redirect_url": request.return_url,
            "failure_redirect_url": request.return_url,
        }
        if request.email:
            body["payer_email"] = request.email
        if request.method:
            channel = self.vendor_method(request.method, "Xendit Invoice")
            body["payment_methods"] = [channel]
        invoice = self._call("POST", "/v2/invoices", json=body)
        if not isinstance(invoice, dict) or not invoice.get("id") or not invoice.get("invoice_url"):
            raise PaymentError(f"Xendit create invoice: no id/invoice_url in {invoice!r:.300}")
        return Checkout(
            gateway_ref=invoice["id"],
            checkout_url=invoice["invoice_url"],
            expires_at=_parse_time(invoice.get("expiry_date")),
        )

    def parse_callback(self, body: bytes, headers: Mapping[str, str]) -> PaymentUpdate:
        """Check `x-callback-token` against XENDIT_CALLBACK_TOKEN, then translate the invoice."""
        expected = self.settings.get("XENDIT_CALLBACK_TOKEN")
        if not expected:
            raise ForgedCallback("cannot verify Xendit callbacks: XENDIT_CALLBACK_TOKEN is not set")
        token = header(headers, "x-callback-token")
        if token is None:
            raise ForgedCallback("Xendit callback without x-callback-token header")
        if not hmac.compare_digest(token.encode(), str(expected).encode()):
            raise ForgedCallback("Xendit callback token does not match XENDIT_CALLBACK_TOKEN")
        return _update(read(XenditInvoice, body, "Xendit callback"))

    def query(self, ref: str, gateway_ref: str | None) -> PaymentUpdate | None:
        """GET the invoice by id, or by external_id when we never stored its id."""
        if gateway_ref:
            invoice = self._call("GET", f"/v2/invoices/{gateway_ref}", missing_ok=True)
            return None if invoice is None else _update(invoice)
        invoices = self._call("GET", "/v2/invoices", params={"external_id": ref}, missing_ok=True)
        if not invoices:
            return None
        if not isinstance(invoices, list):
            raise PaymentError(f"Xendit list invoices: expected a list, got {invoices!r:.300}")
        paid = [i for i in invoices if STATUSES.get(i.get("status")) == PAID]
        return _update((paid or invoices)[0])

    def expire(self, ref: str, gateway_ref: str | None) -> None:
        """POST /invoices/{id}/expire!; an invoice Xendit no longer holds open (404) is left be."""
        if gateway_ref:
            self._call("POST", f"/invoices/{gateway_ref}/expire!", missing_ok=True)

    def can_refund(self, method: str) -> bool:
        """Whether the invoice channel our `method` maps to is one Xendit refunds by API."""
        return self.channel_map(self.settings).get(method) in REFUNDABLE

    def refund(self, request: RefundRequest) -> Refund:
        """POST /refunds for the paid invoice, the whole amount, keyed `<ref>-refund`.

        Xendit's `reason` is a fixed list, so the operator's note stays in our audit log; a
        retry with the same key and body gets the first answer back instead of a second refund.
        :raise PaymentError: the channel has no refund, Xendit refused, or it could not be reached.
        """
        if not self.can_refund(request.method):
            raise PaymentError(f"Xendit cannot refund {request.method} payments through its API; "
                               "give the money back another way and record a manual refund")
        if not request.gateway_ref:
            raise PaymentError(f"order {request.ref} has no Xendit invoice id to refund")
        body = {
            "invoice_id": request.gateway_ref,
            "reference_id": f"{request.ref}-refund",
            "amount": _to_major(request.amount, request.currency),
            "currency": request.currency,
            "reason": "CANCELLATION",
        }
        refund = self._call("POST", "/refunds", json=body,
                            headers={"idempotency-key": f"{request.ref}-refund"})
        if not isinstance(refund, dict) or not refund.get("id"):
            raise PaymentError(f"Xendit refund of {request.ref}: no refund id in {refund!r:.300}")
        status = refund.get("status") or "PENDING"
        if status not in REFUND_STATUSES:
            reason = refund.get("failure_code") or "no failure_code given"
            raise PaymentError(f"Xendit refund {refund['id']} of {request.ref} is {status}: "
                               f"{reason}")
        return Refund(refund_ref=refund["id"], status=REFUND_STATUSES[status],
                      detail=f"Xendit refund {refund['id']} {status}")

    def _call(self, verb: str, path: str, missing_ok: bool = False, **kwargs):
        """One authenticated request; the decoded JSON reply, None on 404 if `missing_ok`."""
        base = (self.settings.get("XENDIT_API_URL") or DEFAULT_API_URL).rstrip("/")
        what = f"Xendit {verb} {path}"
        response = send(self.http, verb, base + path, vendor="Xendit", what=f"{verb} {path}",
                        timeout=self.timeout, error=PaymentError,
                        auth=(self.settings["XENDIT_SECRET_KEY"], ""), **kwargs)
        if response.status_code == 404 and missing_ok:
            return None
        if not 200 <= response.status_code < 300:
            raise PaymentError(f"{what}: HTTP {response.status_code}: {_error_text(response)}")
        try:
            return response.json()
        except ValueError:
            raise PaymentError(
                f"{what}: HTTP {response.status_code} but not JSON: {response.text[:300]!r}"
            ) from None


def _error_text(response) -> str:
    """Xendit's `error_code: message` when the reply is its error JSON, else the raw text."""
    try:
        error = response.json()
    except ValueError:
        error = None
    if isinstance(error, dict) and error.get("error_code"):
        return f"{error['error_code']}: {error.get('message', '')}"[:300]
    return response.text[:300]


def _update(invoice: Mapping) -> PaymentUpdate:
    """An invoice (callback body or GET reply) as a PaymentUpdate."""
    try:
        invoice_id, ref, status = invoice["id"], invoice["external_id"], invoice["status"]
    except (KeyError, TypeError):
        shown = repr(invoice)[:300]
        raise PaymentError(f"Xendit invoice lacks id/external_id/status: {shown}") from None
    currency = invoice.get("currency")
    amount = invoice.get("paid_amount")
    if amount is None:
        amount = invoice.get("amount")
    channel = invoice.get("payment_channel") or invoice.get("payment_method")
    return PaymentUpdate(
        order_ref=ref,
        status=STATUSES.get(status, PENDING),
        amount=None if amount is None or not currency else _to_minor(amount, currency),
        currency=currency,
        gateway_ref=invoice_id,
        event_id=f"{invoice_id}:{status}",
        detail=f"Xendit invoice {invoice_id} {status}" + (f" via {channel}" if channel else ""),
        raw=dict(invoice),
    )


def _to_major(amount: int, currency: str) -> int | float:
    """Minor units -> Xendit's number. Two-decimal values survive float: repr round-trips them."""
    digits = _exponent(currency)
    if digits == 0:
        return amount
    return float(Decimal(amount).scaleb(-digits))


def _to_minor(value, currency: str) -> int:
    try:
        scaled = Decimal(str(value)).scaleb(_exponent(currency))
    except InvalidOperation:
        raise PaymentError(f"Xendit amount {value!r} is not a number") from None
    if scaled != scaled.to_integral_value():
        raise PaymentError(f"Xendit amount {value!r} has more decimals than {currency} allows")
    return int(scaled)


def _exponent(currency: str) -> int:
    if currency not in EXPONENTS:
        raise PaymentError(f"Xendit Invoices do not take {currency}")
    return EXPONENTS[currency]


def _json(body: bytes, what: str):
    try:
        return json.loads(body)
    except ValueError:
        raise PaymentError(f"{what}: body is not JSON: {body[:300]!r}") from None



def _parse_time(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return moment

