"""A fake Midtrans (Snap + Core API) on a pytest-httpserver, built from Midtrans's public docs.

- Auth: `Authorization: Basic base64(server_key + ":")`; anything else is answered 401 with
  Midtrans's "Access denied due to unauthorized transaction" message.
- Snap: POST /snap/v1/transactions -> 201 {token, redirect_url}; errors {"error_messages": []}.
- Core: POST /v2/charge (payment_type qris) -> status_code "201", qr_string, actions[].
- GET /v2/{order_id}/status, POST /v2/{order_id}/expire.
- POST /v2/{order_id or transaction_id}/refund (Refund Transaction reference): body `refund_key`
  (letters, digits, - and _; optional), `amount` (optional, default the rest), `reason`
  (<= 255). Only `settlement` transactions of credit_card, gopay, shopeepay, dana, ovo, qris,
  kredivo, akulaku; otherwise 412. The same refund_key again answers the first refund (a retry);
  a new key past the paid amount is refused. Answer 200 with transaction_status `refund` (or
  `partial_refund`), refund_chargeback_id, refund_amount ("5000.00"), refund_key.
- notification(): a signed HTTP notification body, signature_key =
  sha512_hex(order_id + status_code + gross_amount + server_key).

Both hosts (api. and app.) are served by the same HTTPServer.
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import re
import time
import uuid
from collections import Counter

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

SERVER_KEY = "SB-Mid-server-fake-key-0123456789"
WIB = dt.timezone(dt.timedelta(hours=7))
ORDER_ID = re.compile(r"^[A-Za-z0-9\-_~.]{1,50}$")
# status_code Midtrans puts in a notification for each transaction_status
STATUS_CODES = {"settlement": "200", "capture": "200", "authorize": "200", "pending": "201",
                "deny": "202", "failure": "202", "cancel": "200", "expire": "407",
                "refund": "200", "partial_refund": "200"}
REFUNDABLE = {"credit_card", "gopay", "shopeepay", "dana", "ovo", "qris", "kredivo", "akulaku"}
REFUND_KEY = re.compile(r"^[A-Za-z0-9\-_]+$")
UNAUTHORIZED = "Access denied due to unauthorized transaction, please check client or server key"


def _json(body: dict, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")


class FakeMidtrans:
    """Vendor-side state: Snap tokens, transactions, statuses; simulates outage and slowness."""

    def __init__(self, httpserver: HTTPServer, server_key: str = SERVER_KEY):
        self.server = httpserver
        self.server_key = server_key
        self.snaps: dict[str, dict] = {}          # order_id -> Snap request body + token
        self.transactions: dict[str, dict] = {}   # order_id -> transaction record
        self.created = Counter()                  # order_id -> successful creations
        self.requests: list[dict] = []            # every request: method, path, headers, json
        self.refunds: dict[str, list[dict]] = {}  # order_id -> refund replies, oldest first
        self.down = False
        self.delay = 0.0
        self.garbage = False
        routes = [
            ("/snap/v1/transactions", "POST", self._snap),
            ("/v2/charge", "POST", self._charge),
            (re.compile(r"^/v2/[^/]+/status$"), "GET", self._status),
            (re.compile(r"^/v2/[^/]+/expire$"), "POST", self._expire),
            (re.compile(r"^/v2/[^/]+/refund$"), "POST", self._refund),
        ]
        for uri, method, handler in routes:
            httpserver.expect_request(uri, method=method).respond_with_handler(
                self._wrap(handler))

    # -- settings for the adapter -------------------------------------------------------------
    @property
    def settings(self) -> dict:
        base = self.server.url_for("").rstrip("/")
        return {"MIDTRANS_SERVER_KEY": self.server_key, "MIDTRANS_API_URL": base,
                "MIDTRANS_SNAP_URL": base, "HTTP_TIMEOUT": 2}

    # -- vendor-side actions ------------------------------------------------------------------
    def pay(self, order_id: str, payment_type: str = "gopay",
            transaction_status: str = "settlement", fraud_status: str = "accept") -> dict:
        """The customer pays (or picks a method on Snap): create/update the transaction."""
        tx = self.transactions.get(order_id)
        if tx is None:
            snap = self.snaps[order_id]
            tx = self._new_transaction(order_id, snap["transaction_details"]["gross_amount"],
                                       payment_type)
        tx["transaction_status"] = transaction_status
        tx["fraud_status"] = fraud_status
        tx["status_code"] = STATUS_CODES.get(transaction_status, "200")
        return tx

    def set_status(self, order_id: str, transaction_status: str,
                   fraud_status: str = "accept") -> dict:
        """Change a transaction's status as Midtrans would over time."""
        return self.pay(order_id, transaction_status=transaction_status,
                        fraud_status=fraud_status)

    def notification(self, order_id: str, transaction_status: str | None = None,
                     fraud_status: str | None = None, server_key: str | None = None,
                     **overrides) -> tuple[bytes, dict]:
        """A signed HTTP notification for a transaction's current (or given) state."""
        tx = dict(self.transactions[order_id])
        if transaction_status:
            tx["transaction_status"] = transaction_status
            tx["status_code"] = STATUS_CODES.get(transaction_status, "200")
        if fraud_status:
            tx["fraud_status"] = fraud_status
        tx.update(overrides)
        tx["signature_key"] = self.sign(tx["order_id"], tx["status_code"], tx["gross_amount"],
                                        server_key or self.server_key)
        tx.update({k: v for k, v in overrides.items() if k == "signature_key"})
        body = json.dumps(tx).encode()
        return body, {"Content-Type": "application/json"}

    @staticmethod
    def sign(order_id: str, status_code: str, gross_amount: str, server_key: str) -> str:
        return hashlib.sha512((order_id + status_code + gross_amount + server_key)
                              .encode()).hexdigest()

    # -- HTTP ---------------------------------------------------------------------------------
    def _wrap(self, handler):
        def respond(request: Request) -> Response:
            self.requests.append({"method": request.method, "path": request.path,
                                  "headers": dict(request.headers),
                                  "json": request.get_json(silent=True)})
            if self.delay:
                time.sleep(self.delay)
            if self.down:
                return Response("<html>502 Bad Gateway</html>", status=502,
                                content_type="text/html")
            if self.garbage:
                return Response("<html>maintenance</html>", status=200,
                                content_type="text/html")
            expected = base64.b64encode(f"{self.server_key}:".encode()).decode()
            if request.headers.get("Authorization") != f"Basic {expected}":
                if request.path.startswith("/snap/"):
                    return _json({"error_messages": [UNAUTHORIZED]}, 401)
                return _json({"status_code": "401", "status_message": UNAUTHORIZED}, 401)
            return handler(request)
        return respond

    def _snap(self, request: Request) -> Response:
        body = request.get_json(silent=True) or {}
        details = body.get("transaction_details") or {}
        order_id, gross = details.get("order_id"), details.get("gross_amount")
        errors = []
        if not isinstance(order_id, str) or not ORDER_ID.match(order_id):
            errors.append("transaction_details.order_id format is invalid")
        if not isinstance(gross, int) or isinstance(gross, bool) or gross < 1:
            errors.append("transaction_details.gross_amount is not a whole number")
        items = body.get("item_details")
        if items and sum(i["price"] * i["quantity"] for i in items) != gross:
            errors.append("transaction_details.gross_amount is not equal to the sum of "
                          "item_details")
        if order_id in self.snaps or order_id in self.transactions:
            errors.append("transaction_details.order_id sudah digunakan")
        if errors:
            return _json({"error_messages": errors}, 400)
        token = str(uuid.uuid4())
        self.snaps[order_id] = {**body, "token": token}
        self.created[order_id] += 1
        base = self.server.url_for("").rstrip("/")
        return _json({"token": token, "redirect_url": f"{base}/snap/v4/redirection/{token}"},
                     201)

    def _charge(self, request: Request) -> Response:
        body = request.get_json(silent=True) or {}
        details = body.get("transaction_details") or {}
        order_id, gross = details.get("order_id"), details.get("gross_amount")
        if body.get("payment_type") != "qris":
            return _json({"status_code": "400", "status_message": "payment_type is not "
                          "supported by this fake"})
        if not isinstance(gross, int) or isinstance(gross, bool) or not ORDER_ID.match(
                str(order_id)):
            return _json({"status_code": "400", "status_message": "One or more parameters in "
                          "the payload is invalid.", "validation_messages": [
                              "transaction_details.gross_amount must be an integer"]})
        if order_id in self.transactions or order_id in self.snaps:
            # Core API reports refusals in the body, with the HTTP status mirroring it.
            return _json({"status_code": "406", "status_message": "order_id has been paid and "
                          "utilized, please use another order ID"}, 406)
        tx = self._new_transaction(order_id, gross, "qris")
        self.created[order_id] += 1
        minutes = int((body.get("custom_expiry") or {}).get("expiry_duration", 15))
        expiry = dt.datetime.now(WIB) + dt.timedelta(minutes=minutes)
        tx["expiry_time"] = expiry.strftime("%Y-%m-%d %H:%M:%S")
        reply = {k: tx[k] for k in ("status_code", "transaction_id", "order_id", "merchant_id",
                                    "gross_amount", "currency", "payment_type",
                                    "transaction_time", "transaction_status", "fraud_status",
                                    "expiry_time", "qr_string")}
        reply["status_message"] = "QRIS transaction is created"
        reply["acquirer"] = "gopay"
        reply["actions"] = [{"name": "generate-qr-code", "method": "GET",
                             "url": f"{self.server.url_for('')}v2/qris/{tx['transaction_id']}"
                                    "/qr-code"}]
        return _json(reply, 200)

    def _status(self, request: Request) -> Response:
        order_id = request.path.split("/")[2]
        tx = self.transactions.get(order_id)
        if tx is None:
            return _json({"status_code": "404", "status_message": "Transaction doesn't exist."},
                         404)
        reply = {k: v for k, v in tx.items() if k != "qr_string"}
        reply["signature_key"] = self.sign(tx["order_id"], tx["status_code"], tx["gross_amount"],
                                           self.server_key)
        reply["status_message"] = "Success, transaction is found"
        return _json(reply)

    def _expire(self, request: Request) -> Response:
        order_id = request.path.split("/")[2]
        tx = self.transactions.get(order_id)
        if tx is None:
            return _json({"status_code": "404", "status_message": "Transaction doesn't exist."},
                         404)
        if tx["transaction_status"] != "pending":
            return _json({"status_code": "412", "status_message": "Merchant cannot modify the "
                          "status of the transaction"}, 412)
        tx.update(transaction_status="expire", status_code="407")
        return _json({**tx, "status_message": "Success, transaction has expired"})

    def _refund(self, request: Request) -> Response:
        ident = request.path.split("/")[2]
        tx = self.transactions.get(ident) or next(
            (t for t in self.transactions.values() if t["transaction_id"] == ident), None)
        if tx is None:
            return _json({"status_code": "404", "status_message": "Transaction doesn't exist."},
                         404)
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return _json({"status_code": "413", "status_message": "The request cannot be "
                          "processed due to syntax error in the request body"}, 413)
        done = self.refunds.setdefault(tx["order_id"], [])
        key = body.get("refund_key")
        for earlier in done:
            if key and earlier["refund_key"] == key:
                return _json(earlier)
        errors = []
        if key is not None and (not isinstance(key, str) or not REFUND_KEY.match(key)):
            errors.append("refund_key may only contain letters, numbers, - and _")
        if len(str(body.get("reason", ""))) > 255:
            errors.append("reason is longer than 255 characters")
        gross = int(float(tx["gross_amount"]))
        left = gross - sum(int(float(r["refund_amount"])) for r in done)
        amount = body.get("amount", left)
        if not isinstance(amount, int) or isinstance(amount, bool) or amount < 1:
            errors.append("amount must be a positive whole number")
        if errors:
            return _json({"status_code": "400", "status_message": "One or more parameters in "
                          "the payload is invalid.", "validation_messages": errors}, 400)
        if (tx["payment_type"] not in REFUNDABLE
                or tx["transaction_status"] not in ("settlement", "partial_refund")
                or amount > left):
            return _json({"status_code": "412", "status_message": "Merchant cannot modify the "
                          "status of the transaction"}, 412)
        status = "refund" if amount == left else "partial_refund"
        tx.update(transaction_status=status, status_code="200")
        reply = {"status_code": "200", "status_message": "Success, refund request is approved",
                 "transaction_id": tx["transaction_id"], "order_id": tx["order_id"],
                 "payment_type": tx["payment_type"], "transaction_time": tx["transaction_time"],
                 "transaction_status": status, "gross_amount": tx["gross_amount"],
                 "refund_chargeback_id": len(done) + 1, "refund_amount": f"{amount}.00",
                 "refund_key": key or str(uuid.uuid4())}
        done.append(reply)
        return _json(reply)

    def _new_transaction(self, order_id: str, gross: int, payment_type: str) -> dict:
        tx = {
            "status_code": "201",
            "transaction_id": str(uuid.uuid4()),
            "order_id": order_id,
            "merchant_id": "G000000000",
            "gross_amount": f"{gross}.00",
            "currency": "IDR",
            "payment_type": payment_type,
            "transaction_time": dt.datetime.now(WIB).strftime("%Y-%m-%d %H:%M:%S"),
            "transaction_status": "pending",
            "fraud_status": "accept",
            "qr_string": "00020101021226620014COM.GO-JEK.WWW011993600914" + order_id[:20]
                         + f"5204541153033605405{gross}5802ID5904Fake6007JAKARTA6304ABCD",
        }
        self.transactions[order_id] = tx
        return tx
