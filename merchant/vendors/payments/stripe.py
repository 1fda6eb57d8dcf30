"""Stripe Checkout: a hosted payment page per order (form-encoded API, Bearer secret key).

Webhooks carry `Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>...]` where each v1 is
HMAC-SHA256(endpoint secret, f"{t}.{raw body}").

Amounts: Stripe counts most currencies in hundredths, including IDR (two decimals on Stripe)
while this shop counts whole rupiah, so amounts are converted at this edge in both directions.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from typing import Any

from merchant.core import clock
from merchant.core.money import exponent
from merchant.vendors.callback_schemas import StripeEvent, read
from merchant.vendors.http import header, send
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

DEFAULT_API_URL = "https://api.stripe.com"
SIGNATURE_TOLERANCE = 300  # seconds, Stripe's default for webhook timestamps

# Stripe's "Zero-decimal currencies" list (docs.stripe.com/currencies#zero-decimal).
ZERO_DECIMAL = frozenset({"BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF",
                          "UGX", "VND", "VUV", "XAF", "XOF", "XPF"})
# Three-decimal currencies: the last digit of the amount must be 0.
THREE_DECIMAL = frozenset({"BHD", "JOD", "KWD", "OMR", "TND"})
# ISK is zero-decimal but, for backwards compatibility, Stripe takes it with two decimals
# (amount divisible by 100). Every other currency, IDR included, has two decimals on Stripe.
HUNDREDS_ONLY = frozenset({"ISK"})

# Checkout Session expires_at must be 30 min .. 24 h after creation; margins absorb clock skew.
MIN_LIFETIME = dt.timedelta(minutes=31)
MAX_LIFETIME = dt.timedelta(hours=24, minutes=-1)

# Our method codes -> Checkout payment_method_types; other codes let Stripe offer the
# methods enabled in the dashboard.
METHODS = {"CARD": "card"}

# Refund.status: `pending` and `requires_action` (the customer must give Stripe details, for
# methods without native refunds) are on their way; `failed` and `canceled` gave nothing back.
REFUND_STATUSES = {"succeeded": REFUNDED, "pending": PENDING, "requires_action": PENDING}

STATUSES = {
    "checkout.session.async_payment_succeeded": PAID,
    "checkout.session.async_payment_failed": FAILED,
    "checkout.session.expired": EXPIRED,
}


def stripe_exponent(currency: str) -> int:
    """Digits after the decimal point in Stripe's `amount` for this currency."""
    currency = currency.upper()
    if currency in ZERO_DECIMAL:
        return 0
    if currency in THREE_DECIMAL:
        return 3
    return 2


def to_stripe(amount: int, currency: str) -> int:
    """Our minor units -> Stripe's amount. :raise PaymentError: when Stripe cannot take it."""
    shift = stripe_exponent(currency) - exponent(currency.upper())
    if shift >= 0:
        value = amount * 10**shift
    elif amount % 10**-shift:
        raise Unservable(f"Stripe takes {currency} in whole units only; {amount} minor units "
                           "is not a whole amount")
    else:
        value = amount // 10**-shift
    upper = currency.upper()
    if upper in HUNDREDS_ONLY and value % 100:
        raise Unservable(f"Stripe cannot charge fractions of {upper}")
    if upper in THREE_DECIMAL and value % 10:
        raise Unservable(f"Stripe needs {upper} amounts rounded to the nearest ten")
    return value


def from_stripe(value: int, currency: str) -> int:
    """Stripe's amount -> our minor units. :raise PaymentError: if it does not convert exactly."""
    shift = stripe_exponent(currency) - exponent(currency.upper())
    if shift <= 0:
        return value * 10**-shift
    if value % 10**shift:
        raise PaymentError(f"Stripe sent {value} for {currency.upper()}, which is not a whole "
                           "amount in this shop's units")
    return value // 10**shift


def session_expiry(order_expiry: dt.datetime, now: dt.datetime) -> dt.datetime | None:
    """The expires_at to send: within Stripe's 30 min .. 24 h window, and the same on a retry.

    A retry with the same Idempotency-Key must send the same parameters, so the value is
    derived from the order's expiry, not from the clock: a short-lived order gets a session
    that ends 31 min after it (the worker expires the session when the order expires), and
    one that lives longer than Stripe allows gets Stripe's default of 24 h (None).
    :raise PaymentError: when the order has already expired.
    """
    lifetime = order_expiry - now
    if lifetime <= dt.timedelta(0):
        raise PaymentError(f"the order's payment expiry ({order_expiry:%Y-%m-%d %H:%M} UTC) "
                           "has already passed")
    if lifetime < MIN_LIFETIME:
        return order_expiry + MIN_LIFETIME
    if lifetime > MAX_LIFETIME:
        return None
    return order_expiry


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The v1 signature Stripe puts on a webhook."""
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()



def _utc_naive(epoch: Any) -> dt.datetime | None:
    if not isinstance(epoch, int):
        return None
    return dt.datetime.fromtimestamp(epoch, dt.UTC).replace(tzinfo=None)


class StripeGateway(Gateway):
    """Stripe Checkout Sessions."""

    name = "stripe"
    required_settings = ("STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET")

    # -- plumbing -----------------------------------------------------------------------------
    def _setting(self, key: str, where: str) -> str:
        value = self.settings.get(key)
        if not value:
            raise Unservable(f"{key} is not set: copy it from the Stripe dashboard ({where})")
        return value

    def _call(self, method: str, path: str, what: str, form: dict | None = None,
              idempotency_key: str | None = None) -> tuple[int, dict]:
        """One HTTP call; (HTTP status, JSON object). Transport trouble and 5xx -> PaymentError."""
        base = (self.settings.get("STRIPE_API_URL") or DEFAULT_API_URL).rstrip("/")
        key = self._setting("STRIPE_SECRET_KEY", "Developers > API keys > Secret key")
        headers = {"Authorization": f"Bearer {key}"}
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        response = send(self.http, method, base + path, vendor="Stripe", what=f"{method} {path}",
                        timeout=self.timeout, error=PaymentError, data=form, headers=headers)
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise PaymentError(f"Stripe answered {what} with HTTP {response.status_code} and a "
                               f"body that is not a JSON object: {response.text[:300]!r}")
        if response.status_code >= 500:
            raise self._refusal(what, response.status_code, body)
        return response.status_code, body

    @staticmethod
    def _refusal(what: str, status: int, body: dict) -> PaymentError:
        error = body.get("error") if isinstance(body.get("error"), dict) else {}
        text = error.get("message") or json.dumps(body)[:300]
        kind = error.get("code") or error.get("type") or ""
        return PaymentError(f"Stripe refused {what} (HTTP {status}{', ' + kind if kind else ''})"
                            f": {text}")

    # -- Gateway ------------------------------------------------------------------------------
    def create_payment(self, request: PaymentRequest) -> Checkout:
        """Create a Checkout Session; our ref is the Idempotency-Key, so a retry is harmless."""
        expires = session_expiry(request.expires_at, clock.now())
        form = {
            "mode": "payment",
            "line_items[0][price_data][currency]": request.currency.lower(),
            "line_items[0][price_data][unit_amount]": str(to_stripe(request.amount,
                                                                    request.currency)),
            "line_items[0][price_data][product_data][name]": request.description,
            "line_items[0][quantity]": "1",
            "client_reference_id": request.ref,
            "metadata[order_ref]": request.ref,
            "success_url": request.return_url,
            "cancel_url": request.return_url,
        }
        if expires is not None:
            form["expires_at"] = str(int(expires.replace(tzinfo=dt.UTC).timestamp()))
        if request.email:
            form["customer_email"] = request.email
        if request.method in METHODS:
            form["payment_method_types[0]"] = METHODS[request.method]
        status, session = self._call("POST", "/v1/checkout/sessions", "the Checkout Session",
                                     form, idempotency_key=request.ref)
        if status >= 300:
            raise self._refusal("the Checkout Session", status, session)
        if not session.get("id") or not session.get("url"):
            raise PaymentError(f"Stripe created a Checkout Session without id or url: "
                               f"{json.dumps(session)[:300]}")
        return Checkout(gateway_ref=session["id"], checkout_url=session["url"],
                        expires_at=_utc_naive(session.get("expires_at")) or expires)

    def parse_callback(self, body: bytes, headers: Mapping[str, str]) -> PaymentUpdate:
        """Verify Stripe-Signature over the raw body (300 s tolerance), then translate."""
        secret = self._setting("STRIPE_WEBHOOK_SECRET",
                               "Developers > Webhooks > your endpoint > Signing secret")
        signature = header(headers, "Stripe-Signature")
        if not signature:
            raise ForgedCallback("Stripe webhook without a Stripe-Signature header")
        timestamp, candidates = None, []
        for part in signature.split(","):
            key, _, value = part.strip().partition("=")
            if key == "t":
                timestamp = value
            elif key == "v1":
                candidates.append(value)
        if not timestamp or not timestamp.isdigit() or not candidates:
            raise ForgedCallback(f"Stripe-Signature header is malformed: {signature[:200]!r}")
        age = time.time() - int(timestamp)
        if abs(age) > SIGNATURE_TOLERANCE:
            raise ForgedCallback(f"Stripe webhook timestamp is {int(age)} s off (limit "
                                 f"{SIGNATURE_TOLERANCE} s): a replay, or this clock is wrong")
        expected = sign(secret, int(timestamp), body)
        if not any(hmac.compare_digest(expected, c) for c in candidates):
            raise ForgedCallback("Stripe webhook signature does not match "
                                 "(is STRIPE_WEBHOOK_SECRET this endpoint's signing secret?)")
        event = read(StripeEvent, body, "Stripe webhook")
        return self._update(event["data"]["object"], event["type"], event["id"])

    def _update(self, obj: dict, event_type: str | None, event_id: str | None) -> PaymentUpdate:
        """A PaymentUpdate from a Checkout Session (with the event type, when from a webhook)."""
        payment_status = obj.get("payment_status")
        if event_type is None:             # a status query
            if obj.get("status") == "expired":
                status = EXPIRED
            else:
                status = PAID if payment_status == "paid" else PENDING
            detail = f"Stripe session {obj.get('status')}, payment {payment_status}"
        elif event_type == "checkout.session.completed":
            status = PAID if payment_status == "paid" else PENDING
            detail = f"Stripe checkout completed, payment {payment_status}"
        elif event_type in STATUSES:
            status = STATUSES[event_type]
            detail = f"Stripe {event_type}"
        else:
            status = PENDING
            detail = f"Stripe event {event_type} is not one this shop acts on"
        metadata = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
        currency = obj.get("currency")
        amount = obj.get("amount_total")
        known = event_type is None or event_type.startswith("checkout.session.")
        return PaymentUpdate(
            order_ref=str(obj.get("client_reference_id") or metadata.get("order_ref") or ""),
            status=status,
            amount=(from_stripe(amount, currency)
                    if known and isinstance(amount, int) and currency else None),
            currency=currency.upper() if known and isinstance(currency, str) else None,
            gateway_ref=obj.get("id") if known else None,
            event_id=event_id,
            detail=detail,
            raw=obj,
        )

    def query(self, ref: str, gateway_ref: str | None) -> PaymentUpdate | None:
        """GET /v1/checkout/sessions/{id}; None without a session id or when Stripe has none."""
        if not gateway_ref:
            return None
        status, session = self._call("GET", f"/v1/checkout/sessions/{gateway_ref}",
                                     f"the Checkout Session {gateway_ref}")
        if status == 404:
            return None
        if status >= 300:
            raise self._refusal(f"the Checkout Session {gateway_ref}", status, session)
        return self._update(session, None, None)

    def expire(self, ref: str, gateway_ref: str | None) -> None:
        """POST /v1/checkout/sessions/{id}/expire; a session already expired is left be."""
        if not gateway_ref:
            return
        what = f"expiring the Checkout Session {gateway_ref}"
        status, session = self._call("POST", f"/v1/checkout/sessions/{gateway_ref}/expire", what)
        if status < 300 or status == 404:
            return
        current = self.query(ref, gateway_ref)
        if current is not None and current.status == EXPIRED:
            return
        raise self._refusal(what, status, session)

    def can_refund(self, method: str) -> bool:
        """Stripe refunds a Checkout payment through its Refunds API whatever the method; where
        one cannot be refunded (too old, disputed) Stripe answers with the reason."""
        return True

    def refund(self, request: RefundRequest) -> Refund:
        """POST /v1/refunds on the session's PaymentIntent, Idempotency-Key `<ref>-refund`.

        Stripe's `reason` is a fixed list (duplicate, fraudulent, requested_by_customer) and
        a retry must repeat the first request's parameters exactly, so the operator's note
        stays in our audit log. :raise PaymentError: refused, unpaid, or Stripe unreachable.
        """
        if not request.gateway_ref:
            raise PaymentError(f"order {request.ref} has no Stripe Checkout Session to refund")
        what = f"the Checkout Session {request.gateway_ref}"
        status, session = self._call("GET", f"/v1/checkout/sessions/{request.gateway_ref}", what)
        if status >= 300:
            raise self._refusal(what, status, session)
        intent = session.get("payment_intent")
        if isinstance(intent, dict):   # when the session was fetched with expand[]
            intent = intent.get("id")
        if not intent:
            raise PaymentError(f"Stripe Checkout Session {request.gateway_ref} has no payment "
                               "to refund (no payment_intent)")
        form = {"payment_intent": intent,
                "amount": str(to_stripe(request.amount, request.currency)),
                "metadata[order_ref]": request.ref}
        what = f"the refund of {request.ref}"
        status, refund = self._call("POST", "/v1/refunds", what, form,
                                    idempotency_key=f"{request.ref}-refund")
        if status >= 300:
            raise self._refusal(what, status, refund)
        refund_status = refund.get("status")
        if not refund.get("id") or refund_status not in REFUND_STATUSES:
            reason = refund.get("failure_reason") or json.dumps(refund)[:300]
            raise PaymentError(f"Stripe refund {refund.get('id')} of {request.ref} is "
                               f"{refund_status}: {reason}")
        return Refund(refund_ref=refund["id"], status=REFUND_STATUSES[refund_status],
                      detail=f"Stripe refund {refund['id']} {refund_status}")
