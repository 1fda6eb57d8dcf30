"""The sandbox gateway: the embedded default, so a fresh shop takes (pretend) payments.

Its checkout page lives in this app (web/sandbox.py). The page's Pay, Fail and Expire buttons
send a callback signed exactly as this adapter verifies it: HMAC-SHA256 of the raw body under
SANDBOX_WEBHOOK_SECRET, hex, in the `X-Sandbox-Signature` header.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import uuid
from collections.abc import Mapping

from merchant.vendors.callback_schemas import SandboxCallback, read
from merchant.vendors.http import header
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
)

SIGNATURE_HEADER = "X-Sandbox-Signature"
STATUSES = {"paid": PAID, "failed": FAILED, "expired": EXPIRED, "pending": PENDING}


def sign(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class SandboxGateway(Gateway):
    name = "sandbox"
    required_settings = ("SANDBOX_WEBHOOK_SECRET",)

    def create_payment(self, request: PaymentRequest) -> Checkout:
        gateway_ref = "sbx_" + secrets.token_hex(8)
        return Checkout(gateway_ref=gateway_ref, checkout_url=f"/sandbox/pay/{gateway_ref}",
                        expires_at=request.expires_at)

    def callback(self, order_ref: str, gateway_ref: str, status: str, amount: int,
                 currency: str) -> tuple[bytes, dict[str, str]]:
        """Build a signed callback the way the sandbox 'vendor' sends it."""
        body = json.dumps({
            "event_id": str(uuid.uuid4()), "order_ref": order_ref, "gateway_ref": gateway_ref,
            "status": status, "amount": amount, "currency": currency,
        }).encode()
        secret = self.settings["SANDBOX_WEBHOOK_SECRET"]
        return body, {SIGNATURE_HEADER: sign(secret, body), "Content-Type": "application/json"}

    def parse_callback(self, body: bytes, headers: Mapping[str, str]) -> PaymentUpdate:
        given = header(headers, SIGNATURE_HEADER) or ""
        expected = sign(self.settings["SANDBOX_WEBHOOK_SECRET"], body)
        if not hmac.compare_digest(given.encode(), expected.encode()):
            raise ForgedCallback("sandbox callback signature does not match")
        data = read(SandboxCallback, body, "sandbox callback")
        try:
            status = STATUSES[data["status"]]
            return PaymentUpdate(order_ref=str(data["order_ref"]), status=status,
                                 amount=int(data["amount"]), currency=str(data["currency"]),
                                 gateway_ref=data.get("gateway_ref"), event_id=data["event_id"],
                                 detail=str(data["status"]), raw=data)
        except (ValueError, KeyError, TypeError) as exc:
            raise PaymentError(f"sandbox callback malformed: {exc!r}") from exc

    def query(self, ref: str, gateway_ref: str | None) -> PaymentUpdate | None:
        return None     # the sandbox only speaks through its callbacks

    def can_refund(self, method: str) -> bool:
        return True

    def refund(self, request: RefundRequest) -> Refund:
        """The sandbox 'vendor' refunds every payment at once."""
        return Refund(refund_ref="sbx_rf_" + secrets.token_hex(6), status=REFUNDED,
                      detail=f"sandbox: refunded {request.amount} {request.currency}")
