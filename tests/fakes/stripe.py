"""A fake Stripe Checkout on a pytest-httpserver, built from Stripe's public API reference.

- Auth: `Authorization: Bearer <secret key>` (or Basic with the key as user); otherwise 401
  with Stripe's error envelope {"error": {"type", "message"}}.
- POST /v1/checkout/sessions (form-encoded). `Idempotency-Key`: the same key with the same
  parameters replays the first answer (header `Idempotent-Replayed: true`); with different
  parameters it is a 400 `idempotency_error`. expires_at must be 30 min .. 24 h ahead.
- GET /v1/checkout/sessions/{id}; POST /v1/checkout/sessions/{id}/expire (open ones only).
- POST /v1/refunds (Refunds API): `payment_intent` or `charge`, optional `amount` (default the
  unrefunded rest), `reason` (duplicate | fraudulent | requested_by_customer), `metadata[...]`;
  Idempotency-Key as above. Answers a `refund` object (id `re_...`, status `succeeded` or the
  fake's `refund_status`); refunding a refunded charge is 400 `charge_already_refunded`, more
  than is left 400 `amount_too_large`, an unknown PaymentIntent 404 `resource_missing`.
- event(): a webhook body plus `Stripe-Signature: t=..,v1=..` (HMAC-SHA256 of f"{t}.{body}").
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import time
from collections import Counter

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

SECRET_KEY = "sk_test_fake_51Hxxxxxxxxxxxxxxxx"
WEBHOOK_SECRET = "whsec_fake_0123456789abcdef"
ZERO_DECIMAL = {"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx",
                "vnd", "vuv", "xaf", "xof", "xpf"}


def _error(status: int, message: str, kind: str = "invalid_request_error", **extra) -> Response:
    body = {"error": {"type": kind, "message": message, **extra}}
    return Response(json.dumps(body), status=status, content_type="application/json")


def _json(body: dict, status: int = 200, headers: dict | None = None) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json",
                    headers=headers)


class FakeStripe:
    """Vendor-side state: sessions, idempotency keys, statuses; simulates outage and slowness."""

    def __init__(self, httpserver: HTTPServer, secret_key: str = SECRET_KEY,
                 webhook_secret: str = WEBHOOK_SECRET):
        self.server = httpserver
        self.secret_key = secret_key
        self.webhook_secret = webhook_secret
        self.sessions: dict[str, dict] = {}
        self.idempotency: dict[str, tuple[dict, dict]] = {}   # key -> (params, answer)
        self.created = Counter()                              # client_reference_id -> creations
        self.requests: list[dict] = []
        self.refunds: dict[str, dict] = {}
        self.refund_status = "succeeded"        # what a new refund answers
        self.down = False
        self.delay = 0.0
        self.garbage = False
        routes = [
            ("/v1/checkout/sessions", "POST", self._create),
            (re.compile(r"^/v1/checkout/sessions/[^/]+$"), "GET", self._retrieve),
            (re.compile(r"^/v1/checkout/sessions/[^/]+/expire$"), "POST", self._expire),
            ("/v1/refunds", "POST", self._refund),
        ]
        for uri, method, handler in routes:
            httpserver.expect_request(uri, method=method).respond_with_handler(
                self._wrap(handler))

    @property
    def settings(self) -> dict:
        return {"STRIPE_SECRET_KEY": self.secret_key, "STRIPE_WEBHOOK_SECRET":
                self.webhook_secret, "STRIPE_API_URL": self.server.url_for("").rstrip("/"),
                "HTTP_TIMEOUT": 2}

    # -- vendor-side actions ------------------------------------------------------------------
    def complete(self, session_id: str, payment_status: str = "paid") -> dict:
        """The customer finishes Checkout (paid, or unpaid while an async method settles)."""
        session = self.sessions[session_id]
        session.update(status="complete", payment_status=payment_status,
                       payment_intent=session.get("payment_intent") or
                       f"pi_{secrets.token_hex(12)}")
        return session

    def set_status(self, session_id: str, status: str, payment_status: str) -> dict:
        self.sessions[session_id].update(status=status, payment_status=payment_status)
        return self.sessions[session_id]

    def event(self, session_id: str | None, event_type: str, timestamp: int | None = None,
              secret: str | None = None, extra_signatures: tuple[str, ...] = (),
              obj: dict | None = None) -> tuple[bytes, dict]:
        """A signed webhook delivery for the session's current state."""
        data = obj if obj is not None else dict(self.sessions[session_id])
        event = {"id": f"evt_{secrets.token_hex(12)}", "object": "event",
                 "api_version": "2024-06-20", "created": int(time.time()),
                 "type": event_type, "data": {"object": data}, "livemode": False,
                 "pending_webhooks": 1, "request": {"id": None, "idempotency_key": None}}
        body = json.dumps(event).encode()
        t = int(time.time()) if timestamp is None else timestamp
        signature = self.sign(secret or self.webhook_secret, t, body)
        parts = [f"t={t}", *(f"v1={s}" for s in extra_signatures), f"v1={signature}",
                 f"v0={secrets.token_hex(32)}"]
        return body, {"Stripe-Signature": ",".join(parts), "Content-Type": "application/json"}

    @staticmethod
    def sign(secret: str, timestamp: int, body: bytes) -> str:
        return hmac.new(secret.encode(), f"{timestamp}.".encode() + body,
                        hashlib.sha256).hexdigest()

    # -- HTTP ---------------------------------------------------------------------------------
    def _wrap(self, handler):
        def respond(request: Request) -> Response:
            self.requests.append({"method": request.method, "path": request.path,
                                  "headers": dict(request.headers),
                                  "form": request.form.to_dict()})
            if self.delay:
                time.sleep(self.delay)
            if self.down:
                return _error(500, "An unknown error occurred", "api_error")
            if self.garbage:
                return Response("<html>upstream error</html>", status=502,
                                content_type="text/html")
            if self._api_key(request.headers.get("Authorization", "")) != self.secret_key:
                return _error(401, "Invalid API Key provided: sk_test_****"
                              + request.headers.get("Authorization", "")[-4:])
            return handler(request)
        return respond

    @staticmethod
    def _api_key(header: str) -> str | None:
        if header.startswith("Bearer "):
            return header[7:]
        if header.startswith("Basic "):
            try:
                return base64.b64decode(header[6:]).decode().partition(":")[0]
            except ValueError:
                return None
        return None

    def _create(self, request: Request) -> Response:
        params = request.form.to_dict()
        key = request.headers.get("Idempotency-Key")
        if key and key in self.idempotency:
            first_params, session = self.idempotency[key]
            if first_params != params:
                return _error(400, "Keys for idempotent requests can only be used with the same "
                              "parameters they were first used with. Try using a key other "
                              f"than '{key}' if you meant to execute a different request.",
                              "idempotency_error")
            return _json(session, headers={"Idempotent-Replayed": "true"})
        problem = self._invalid(params)
        if problem:
            return _error(400, problem[1], param=problem[0])
        now = int(time.time())
        currency = params["line_items[0][price_data][currency]"]
        amount = int(params["line_items[0][price_data][unit_amount]"]) * int(
            params.get("line_items[0][quantity]", "1"))
        session_id = f"cs_test_{secrets.token_hex(16)}"
        metadata = {k[9:-1]: v for k, v in params.items() if k.startswith("metadata[")}
        session = {
            "id": session_id, "object": "checkout.session", "mode": params["mode"],
            "url": f"https://checkout.stripe.com/c/pay/{session_id}",
            "status": "open", "payment_status": "unpaid",
            "amount_subtotal": amount, "amount_total": amount, "currency": currency,
            "client_reference_id": params.get("client_reference_id"),
            "customer_email": params.get("customer_email"), "metadata": metadata,
            "success_url": params.get("success_url"), "cancel_url": params.get("cancel_url"),
            "created": now, "expires_at": int(params.get("expires_at", now + 86400)),
            "livemode": False, "payment_intent": None,
        }
        self.sessions[session_id] = session
        self.created[session["client_reference_id"]] += 1
        if key:
            self.idempotency[key] = (params, session)
        return _json(session)

    @staticmethod
    def _invalid(params: dict) -> tuple[str, str] | None:
        if params.get("mode") not in ("payment", "setup", "subscription"):
            return "mode", "Missing required param: mode."
        for name in ("line_items[0][price_data][currency]",
                     "line_items[0][price_data][unit_amount]",
                     "line_items[0][price_data][product_data][name]"):
            if not params.get(name):
                return name, f"Missing required param: {name}."
        currency = params["line_items[0][price_data][currency]"]
        if currency != currency.lower():
            return "currency", f"Invalid currency: {currency}."
        if not params["line_items[0][price_data][unit_amount]"].isdigit():
            return "unit_amount", "Invalid integer: " + params[
                "line_items[0][price_data][unit_amount]"]
        if "expires_at" in params:
            ahead = int(params["expires_at"]) - time.time()
            if ahead < 30 * 60:
                return "expires_at", ("The `expires_at` timestamp must be at least 30 minutes "
                                      "from Checkout Session creation.")
            if ahead > 24 * 3600:
                return "expires_at", ("The `expires_at` timestamp must be less than 24 hours "
                                      "from Checkout Session creation.")
        return None

    def _retrieve(self, request: Request) -> Response:
        session_id = request.path.rsplit("/", 1)[1]
        if session_id not in self.sessions:
            return _error(404, f"No such checkout.session: '{session_id}'",
                          code="resource_missing", param="session")
        return _json(self.sessions[session_id])

    def _expire(self, request: Request) -> Response:
        session_id = request.path.split("/")[4]
        session = self.sessions.get(session_id)
        if session is None:
            return _error(404, f"No such checkout.session: '{session_id}'",
                          code="resource_missing", param="session")
        if session["status"] != "open":
            return _error(400, 'Only Checkout Sessions with a status in ["open"] can be '
                          f"expired. This Checkout Session has a status of {session['status']}.")
        session["status"] = "expired"
        return _json(session)

    def _refund(self, request: Request) -> Response:
        params = request.form.to_dict()
        key = request.headers.get("Idempotency-Key")
        if key and key in self.idempotency:
            first_params, refund = self.idempotency[key]
            if first_params != params:
                return _error(400, "Keys for idempotent requests can only be used with the same "
                              "parameters they were first used with.", "idempotency_error")
            return _json(refund, headers={"Idempotent-Replayed": "true"})
        intent = params.get("payment_intent")
        if not intent and not params.get("charge"):
            return _error(400, "One of the following params should be provided for this "
                          "request: payment_intent or charge.")
        session = next((s for s in self.sessions.values()
                        if intent and s.get("payment_intent") == intent), None)
        if session is None:
            return _error(404, f"No such payment_intent: '{intent}'", code="resource_missing",
                          param="payment_intent")
        if params.get("reason") not in (None, "duplicate", "fraudulent",
                                        "requested_by_customer"):
            return _error(400, f"Invalid reason: {params['reason']}", param="reason")
        charge = "ch_" + intent[3:]
        refunded = sum(r["amount"] for r in self.refunds.values()
                       if r["payment_intent"] == intent and r["status"] != "failed")
        left = session["amount_total"] - refunded
        if left <= 0:
            return _error(400, f"Charge {charge} has already been refunded.",
                          code="charge_already_refunded")
        amount = params.get("amount", str(left))
        if not amount.isdigit() or int(amount) < 1:
            return _error(400, f"Invalid integer: {amount}", param="amount")
        if int(amount) > left:
            return _error(400, f"Refund amount ({amount}) is greater than unrefunded amount on "
                          f"charge ({left})", code="amount_too_large", param="amount")
        refund = {
            "id": f"re_{secrets.token_hex(12)}", "object": "refund", "amount": int(amount),
            "balance_transaction": f"txn_{secrets.token_hex(12)}", "charge": charge,
            "created": int(time.time()), "currency": session["currency"],
            "metadata": {k[9:-1]: v for k, v in params.items() if k.startswith("metadata[")},
            "payment_intent": intent, "reason": params.get("reason"), "receipt_number": None,
            "source_transfer_reversal": None, "status": self.refund_status,
            "transfer_reversal": None,
        }
        self.refunds[refund["id"]] = refund
        if key:
            self.idempotency[key] = (params, refund)
        return _json(refund)
