"""A fake Xendit Invoices API on a pytest-httpserver, built from Xendit's documented formats.

Routes (under `prefix`, default ""): POST /v2/invoices, GET /v2/invoices?external_id=...,
GET /v2/invoices/{id}, POST /invoices/{id}/expire!, POST /refunds (the Refunds API, by
`invoice_id`). Auth is HTTP Basic with the secret key as user and an empty password; anything
else gets 401 INVALID_API_KEY. Errors use Xendit's `{"error_code", "message"}` shape. Callbacks
carry the dashboard token in `x-callback-token`.

Refunds follow the Refunds API reference and SDK models (xendit-node refund/models): body
`invoice_id` | `payment_request_id`, `reference_id`, `amount`, `currency`, `reason` (FRAUDULENT,
DUPLICATE, REQUESTED_BY_CUSTOMER, CANCELLATION, OTHERS), `metadata`; header `idempotency-key`
(same key + same body replays the refund, another body is 409 IDEMPOTENCY_ERROR). Errors 400
REFUND_NOT_SUPPORTED (virtual accounts, retail outlets, OVO, AstraPay), INELIGIBLE_TRANSACTION
(invoice not paid), MAXIMUM_REFUND_AMOUNT_REACHED, API_VALIDATION_ERROR; 404 DATA_NOT_FOUND.
"""
from __future__ import annotations

import base64
import datetime as dt
import json
import re
import secrets
import time
import uuid
from collections import Counter

from werkzeug import Request, Response

CHANNELS = {
    "CREDIT_CARD", "BCA", "BNI", "BSI", "BRI", "MANDIRI", "PERMATA", "BJB", "CIMB",
    "SAHABAT_SAMPOERNA", "BNC", "ALFAMART", "INDOMARET", "OVO", "DANA", "SHOPEEPAY", "LINKAJA",
    "ASTRAPAY", "JENIUSPAY", "DD_BRI", "DD_BCA_KLIKPAY", "KREDIVO", "AKULAKU", "ATOME", "QRIS",
    "GCASH", "GRABPAY", "PAYMAYA",
}
CURRENCIES = {"IDR", "PHP", "THB", "VND", "MYR"}
REFUND_CHANNELS = {"CREDIT_CARD", "QRIS", "DANA", "SHOPEEPAY", "LINKAJA", "GCASH", "GRABPAY",
                   "PAYMAYA"}
REFUND_REASONS = {"FRAUDULENT", "DUPLICATE", "REQUESTED_BY_CUSTOMER", "CANCELLATION", "OTHERS"}


class FakeXendit:
    """Vendor-side state plus handlers. `mode` is "ok", "down" (500), "slow" or "garbage"."""

    def __init__(self, httpserver, secret_key="xnd_development_fake", callback_token="tok-fake",
                 prefix=""):
        self.secret_key = secret_key
        self.callback_token = callback_token
        self.prefix = prefix
        self.base_url = httpserver.url_for(prefix or "/").rstrip("/")
        self.invoices: dict[str, dict] = {}
        self.created = Counter()          # external_id -> how many invoices were created for it
        self.requests: list[dict] = []    # every create body, as received
        self.refunds: dict[str, dict] = {}      # refund id -> refund
        self.refund_requests: list[dict] = []   # every POST /refunds: headers and body
        self.refund_status = "SUCCEEDED"        # what a new refund answers (or "PENDING")
        # invoice id -> (error_code, message): Xendit's partner refuses this payment's refund
        # (e.g. a QRIS issuer without refunds answers REFUND_NOT_SUPPORTED)
        self.refund_refusals: dict[str, tuple[str, str]] = {}
        self.idempotency: dict[str, tuple[dict, dict]] = {}   # key -> (body, refund)
        self.mode = "ok"
        self.slow_seconds = 1.0
        p = re.escape(prefix)
        routes = [
            (re.compile(rf"^{p}/v2/invoices/?$"), "POST", self._create),
            (re.compile(rf"^{p}/v2/invoices/?$"), "GET", self._list),
            (re.compile(rf"^{p}/v2/invoices/(?P<id>[^/]+)$"), "GET", self._get),
            (re.compile(rf"^{p}/invoices/(?P<id>[^/]+)/expire!$"), "POST", self._expire),
            (re.compile(rf"^{p}/refunds/?$"), "POST", self._refund),
        ]
        for pattern, method, fn in routes:
            httpserver.expect_request(pattern, method=method).respond_with_handler(
                self._wrap(pattern, fn))

    # -- vendor behaviour -------------------------------------------------------------------

    def _wrap(self, pattern, fn):
        def handler(request: Request) -> Response:
            if self.mode == "down":
                return Response("<html><body>502 Bad Gateway</body></html>", status=500)
            if self.mode == "slow":
                time.sleep(self.slow_seconds)
            if self.mode == "garbage":
                return Response("<html>maintenance</html>", status=200, mimetype="text/html")
            if not self._authorized(request):
                return _error(401, "INVALID_API_KEY",
                              "API key is not authorized for this API service")
            return fn(request, **pattern.match(request.path).groupdict())
        return handler

    def _authorized(self, request: Request) -> bool:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return False
        return user == self.secret_key and password == ""

    def _create(self, request: Request) -> Response:
        try:
            body = json.loads(request.get_data())
        except ValueError:
            return _error(400, "API_VALIDATION_ERROR", "Invalid JSON body")
        self.requests.append(body)
        problem = _validate(body)
        if problem:
            return _error(400, "API_VALIDATION_ERROR", problem)
        invoice_id = secrets.token_hex(12)
        now = _now()
        duration = int(body.get("invoice_duration", 86400))
        invoice = {
            "id": invoice_id,
            "external_id": body["external_id"],
            "user_id": "5781d19b2e2385880609791c",
            "status": "PENDING",
            "merchant_name": "Fake Shop",
            "merchant_profile_picture_url": "https://example.invalid/logo.png",
            "amount": body["amount"],
            "payer_email": body.get("payer_email"),
            "description": body.get("description"),
            "expiry_date": _iso(now + dt.timedelta(seconds=duration)),
            "invoice_url": f"https://checkout-staging.xendit.co/web/{invoice_id}",
            "available_banks": [],
            "available_retail_outlets": [],
            "available_ewallets": [],
            "available_qr_codes": [],
            "available_direct_debits": [],
            "available_paylaters": [],
            "should_exclude_credit_card": False,
            "should_send_email": False,
            "success_redirect_url": body.get("success_redirect_url"),
            "failure_redirect_url": body.get("failure_redirect_url"),
            "created": _iso(now),
            "updated": _iso(now),
            "currency": body.get("currency", "IDR"),
        }
        self.invoices[invoice_id] = invoice
        self.created[body["external_id"]] += 1
        return _json(invoice)

    def _list(self, request: Request) -> Response:
        external_id = request.args.get("external_id")
        found = [i for i in self.invoices.values()
                 if external_id is None or i["external_id"] == external_id]
        return _json(list(reversed(found)))

    def _get(self, request: Request, id: str) -> Response:
        if id not in self.invoices:
            return _error(404, "INVOICE_NOT_FOUND_ERROR", "Could not find invoice by id")
        return _json(self.invoices[id])

    def _expire(self, request: Request, id: str) -> Response:
        invoice = self.invoices.get(id)
        if invoice is None or invoice["status"] != "PENDING":
            return _error(404, "INVOICE_NOT_FOUND_ERROR", "Could not find invoice by id")
        self.set_status(id, "EXPIRED")
        return _json(invoice)

    def _refund(self, request: Request) -> Response:
        try:
            body = json.loads(request.get_data())
        except ValueError:
            return _error(400, "API_VALIDATION_ERROR", "Invalid JSON body")
        self.refund_requests.append({"headers": dict(request.headers), "body": body})
        key = request.headers.get("idempotency-key")
        if key and key in self.idempotency:
            first, refund = self.idempotency[key]
            if first != body:
                return _error(409, "IDEMPOTENCY_ERROR", "Idempotency key has been used with a "
                              "different request body")
            return _json(refund)
        if not isinstance(body, dict) or not (body.get("invoice_id")
                                              or body.get("payment_request_id")):
            return _error(400, "API_VALIDATION_ERROR", "invoice_id or payment_request_id "
                          "is required")
        if body.get("reason") not in REFUND_REASONS:
            return _error(400, "API_VALIDATION_ERROR", "reason must be one of "
                          + ", ".join(sorted(REFUND_REASONS)))
        invoice = self.invoices.get(body.get("invoice_id"))
        if invoice is None:
            return _error(404, "DATA_NOT_FOUND", "Invoice not found")
        if invoice["status"] not in ("PAID", "SETTLED"):
            return _error(400, "INELIGIBLE_TRANSACTION", "Refund cannot be processed as the "
                          f"transaction is in {invoice['status']} status")
        if invoice["id"] in self.refund_refusals:
            return _error(400, *self.refund_refusals[invoice["id"]])
        if invoice.get("payment_channel") not in REFUND_CHANNELS:
            return _error(400, "REFUND_NOT_SUPPORTED", "Refund feature is not available for "
                          f"the payment channel {invoice.get('payment_channel')}")
        if body.get("currency", invoice["currency"]) != invoice["currency"]:
            return _error(400, "API_VALIDATION_ERROR", "currency does not match the payment")
        refunded = sum(r["amount"] for r in self.refunds.values()
                       if r["invoice_id"] == invoice["id"] and r["status"] != "FAILED")
        remaining = invoice.get("paid_amount", invoice["amount"]) - refunded
        amount = body.get("amount", remaining)
        if isinstance(amount, bool) or not isinstance(amount, int | float) or amount <= 0:
            return _error(400, "API_VALIDATION_ERROR", "amount must be a positive number")
        if amount > remaining:
            return _error(400, "MAXIMUM_REFUND_AMOUNT_REACHED", "Refund amount exceeds the "
                          f"remaining refundable amount ({remaining})")
        now = _iso(_now())
        refund = {
            "id": f"rfd-{uuid.uuid4()}",
            "payment_id": invoice.get("payment_id"),
            "invoice_id": invoice["id"],
            "amount": amount,
            "payment_method_type": invoice.get("payment_method"),
            "channel_code": invoice.get("payment_channel"),
            "currency": invoice["currency"],
            "status": self.refund_status,
            "reason": body["reason"],
            "reference_id": body.get("reference_id"),
            "failure_code": None,
            "refund_fee_amount": None,
            "created": now,
            "updated": now,
            "metadata": body.get("metadata"),
        }
        self.refunds[refund["id"]] = refund
        if key:
            self.idempotency[key] = (body, refund)
        return _json(refund)

    # -- test controls ----------------------------------------------------------------------

    def only(self, external_id: str) -> dict:
        """The one invoice created for `external_id` (fails if there are several)."""
        found = [i for i in self.invoices.values() if i["external_id"] == external_id]
        assert len(found) == 1, f"{len(found)} invoices for {external_id}"
        return found[0]

    def set_status(self, invoice_id: str, status: str, channel: str = "QRIS") -> dict:
        """Move an invoice to PENDING, PAID, SETTLED or EXPIRED, as the customer/Xendit would."""
        invoice = self.invoices[invoice_id]
        invoice["status"] = status
        invoice["updated"] = _iso(_now())
        if status in ("PAID", "SETTLED"):
            invoice.setdefault("paid_amount", invoice["amount"])
            invoice.setdefault("paid_at", invoice["updated"])
            invoice.setdefault("payment_method", "QR_CODE" if channel == "QRIS" else "EWALLET")
            invoice.setdefault("payment_channel", channel)
            invoice.setdefault("payment_id", "qrpy_" + secrets.token_hex(8))
        return invoice

    def callback(self, invoice_id: str, token: str | None = None, **changes):
        """(raw_body, headers) of the invoice callback Xendit would send for its current state."""
        invoice = self.invoices[invoice_id]
        body = {
            key: invoice.get(key)
            for key in ("id", "external_id", "user_id", "status", "merchant_name", "amount",
                        "payer_email", "description", "paid_amount", "paid_at", "updated",
                        "created", "currency", "payment_method", "payment_channel",
                        "payment_id", "success_redirect_url", "failure_redirect_url")
            if invoice.get(key) is not None
        }
        body["is_high"] = False
        body.update(changes)
        headers = {
            "Content-Type": "application/json",
            "x-callback-token": self.callback_token if token is None else token,
        }
        return json.dumps(body).encode(), headers


def _validate(body) -> str | None:
    if not isinstance(body, dict):
        return "body must be a JSON object"
    if not isinstance(body.get("external_id"), str) or not body["external_id"]:
        return "external_id is required"
    amount = body.get("amount")
    if isinstance(amount, bool) or not isinstance(amount, int | float) or amount <= 0:
        return "amount must be a positive number"
    if body.get("currency", "IDR") not in CURRENCIES:
        return f"currency {body.get('currency')} is not supported"
    if body.get("currency", "IDR") in ("IDR", "VND") and amount != int(amount):
        return "amount must be a whole number for this currency"
    methods = body.get("payment_methods")
    if methods is not None and (not isinstance(methods, list) or set(methods) - CHANNELS):
        return f"payment_methods contains an unknown channel: {methods}"
    duration = body.get("invoice_duration")
    if duration is not None and (not isinstance(duration, int | float) or duration < 1):
        return "invoice_duration must be a positive number of seconds"
    return None


def _json(data, status: int = 200) -> Response:
    return Response(json.dumps(data), status=status, mimetype="application/json")


def _error(status: int, code: str, message: str) -> Response:
    return _json({"error_code": code, "message": message}, status)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _iso(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
