"""A fake Tripay payment API on a pytest-httpserver, built from Tripay's documented formats.

Routes under `prefix` (default "/api-sandbox", like the sandbox host): POST transaction/create
(closed payment, JSON body), GET transaction/detail?reference=..., GET
merchant/transactions?merchant_ref=.... Every call needs `Authorization: Bearer <api key>`.
Replies are `{"success": bool, "message": str, "data": ...}`. Create requests must carry
signature = hex HMAC-SHA256(private_key, merchant_code + merchant_ref + amount) and order items
summing to the amount. Callbacks carry X-Callback-Event: payment_status and X-Callback-Signature
= hex HMAC-SHA256(private_key, raw body).
"""
from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import time
from collections import Counter

from werkzeug import Request, Response

# code -> (name, kind, flat fee). Kinds decide which of pay_code / qr_string / pay_url is set.
CHANNELS = {
    "QRIS": ("QRIS", "qris", 750),
    "QRISC": ("QRIS (Customizable)", "qris", 750),
    "BRIVA": ("BRI Virtual Account", "va", 4250),
    "BCAVA": ("BCA Virtual Account", "va", 5500),
    "BNIVA": ("BNI Virtual Account", "va", 4250),
    "MANDIRIVA": ("Mandiri Virtual Account", "va", 4250),
    "PERMATAVA": ("Permata Virtual Account", "va", 4250),
    "ALFAMART": ("Alfamart", "va", 3500),
    "OVO": ("OVO", "ewallet", 300),
    "DANA": ("DANA", "ewallet", 300),
    "SHOPEEPAY": ("ShopeePay", "ewallet", 300),
}
QR_PAYLOAD = "00020101021226610016ID.CO.SHOPEE.WWW01189360091800216005230208216005230303UME"


class FakeTripay:
    """Vendor-side state plus handlers. `mode` is "ok", "down" (500), "slow" or "garbage".

    `fee_on_customer` = True makes Tripay add the channel fee to what the customer pays
    (fee_customer), as a merchant can configure per channel; otherwise the merchant bears it.
    """

    def __init__(self, httpserver, api_key="DEV-fakeapikey", private_key="fake-private-key",
                 merchant_code="T0001", prefix="/api-sandbox"):
        self.api_key = api_key
        self.private_key = private_key
        self.merchant_code = merchant_code
        self.base_url = httpserver.url_for(prefix + "/")
        self.transactions: dict[str, dict] = {}   # reference -> transaction
        self.created = Counter()                  # merchant_ref -> how many were created
        self.requests: list[dict] = []            # every create body, as received
        self.fee_on_customer = False
        self.mode = "ok"
        self.slow_seconds = 1.0
        p = re.escape(prefix)
        routes = [
            (rf"^{p}/transaction/create$", "POST", self._create),
            (rf"^{p}/transaction/detail$", "GET", self._detail),
            (rf"^{p}/merchant/transactions$", "GET", self._list),
        ]
        for pattern, method, fn in routes:
            httpserver.expect_request(re.compile(pattern), method=method).respond_with_handler(
                self._wrap(fn))

    # -- vendor behaviour -------------------------------------------------------------------

    def _wrap(self, fn):
        def handler(request: Request) -> Response:
            if self.mode == "down":
                return Response("<h1>503 Service Temporarily Unavailable</h1>", status=500)
            if self.mode == "slow":
                time.sleep(self.slow_seconds)
            if self.mode == "garbage":
                return Response("<html>Sedang maintenance</html>", mimetype="text/html")
            if request.headers.get("Authorization") != f"Bearer {self.api_key}":
                return _reply(False, "Invalid API Key", status=401)
            return fn(request)
        return handler

    def _create(self, request: Request) -> Response:
        try:
            body = json.loads(request.get_data())
        except ValueError:
            return _reply(False, "Invalid request body", status=400)
        self.requests.append(body)
        problem = self._invalid(body)
        if problem:
            return _reply(False, problem, status=400)
        name, kind, fee = CHANNELS[body["method"]]
        amount = body["amount"]
        fee_customer = fee if self.fee_on_customer else 0
        fee_merchant = 0 if self.fee_on_customer else fee
        serial = f"{secrets.randbelow(10**9):09d}{secrets.token_hex(3).upper()}"
        reference = f"DEV-{self.merchant_code}{serial}"
        transaction = {
            "reference": reference,
            "merchant_ref": body["merchant_ref"],
            "payment_selection_type": "static",
            "payment_method": body["method"],
            "payment_name": name,
            "customer_name": body["customer_name"],
            "customer_email": body["customer_email"],
            "customer_phone": body.get("customer_phone"),
            "callback_url": body.get("callback_url"),
            "return_url": body.get("return_url"),
            "amount": amount + fee_customer,
            "fee_merchant": fee_merchant,
            "fee_customer": fee_customer,
            "total_fee": fee,
            "amount_received": amount - fee_merchant,
            "pay_code": f"{secrets.randbelow(10**14):014d}" if kind == "va" else None,
            "pay_url": f"https://tripay.co.id/pay/{reference}" if kind == "ewallet" else None,
            "checkout_url": f"https://tripay.co.id/checkout/{reference}",
            "status": "UNPAID",
            "paid_at": None,
            "expired_time": body.get("expired_time") or int(time.time()) + 86400,
            "order_items": body["order_items"],
            "instructions": [],
            "qr_string": QR_PAYLOAD if kind == "qris" else None,
            "qr_url": f"https://tripay.co.id/qr/{reference}" if kind == "qris" else None,
        }
        self.transactions[reference] = transaction
        self.created[body["merchant_ref"]] += 1
        return _reply(True, "", transaction)

    def _invalid(self, body) -> str | None:
        if not isinstance(body, dict):
            return "Invalid request body"
        for key in ("method", "merchant_ref", "amount", "customer_name", "customer_email",
                    "order_items", "signature"):
            if body.get(key) in (None, "", []):
                return f"The {key} field is required."
        if body["method"] not in CHANNELS:
            return "Payment channel is not enabled"
        amount = body["amount"]
        if not isinstance(amount, int) or isinstance(amount, bool) or amount < 1:
            return "The amount must be an integer."
        expected = sign(self.private_key, f"{self.merchant_code}{body['merchant_ref']}{amount}")
        if not hmac.compare_digest(str(body["signature"]), expected):
            return "Invalid signature"
        try:
            items_total = sum(i["price"] * i["quantity"] for i in body["order_items"])
        except (KeyError, TypeError):
            return "order_items must have price and quantity"
        if items_total != amount:
            return "Total order items amount does not match the transaction amount"
        expired = body.get("expired_time")
        if expired is not None and (not isinstance(expired, int) or expired <= time.time()):
            return "Invalid expired_time"
        return None

    def _detail(self, request: Request) -> Response:
        transaction = self.transactions.get(request.args.get("reference", ""))
        if transaction is None:
            return _reply(False, "Transaction not found", status=404)
        return _reply(True, "Transaction found", transaction)

    def _list(self, request: Request) -> Response:
        merchant_ref = request.args.get("merchant_ref")
        found = [t for t in reversed(self.transactions.values())
                 if merchant_ref is None or t["merchant_ref"] == merchant_ref]
        return _reply(True, "Success", found)

    # -- test controls ----------------------------------------------------------------------

    def only(self, merchant_ref: str) -> dict:
        """The one transaction created for `merchant_ref` (fails if there are several)."""
        found = [t for t in self.transactions.values() if t["merchant_ref"] == merchant_ref]
        assert len(found) == 1, f"{len(found)} transactions for {merchant_ref}"
        return found[0]

    def set_status(self, reference: str, status: str) -> dict:
        """Move a transaction to UNPAID, PAID, FAILED, EXPIRED or REFUND."""
        transaction = self.transactions[reference]
        transaction["status"] = status
        if status == "PAID":
            transaction["paid_at"] = int(time.time())
        return transaction

    def callback(self, reference: str, signature: str | None = None,
                 event: str = "payment_status", **changes):
        """(raw_body, headers) of the callback Tripay would send for the current state."""
        t = self.transactions[reference]
        body = {
            "reference": t["reference"],
            "merchant_ref": t["merchant_ref"],
            "payment_method": t["payment_name"],
            "payment_method_code": t["payment_method"],
            "total_amount": t["amount"],
            "fee_merchant": t["fee_merchant"],
            "fee_customer": t["fee_customer"],
            "total_fee": t["total_fee"],
            "amount_received": t["amount_received"],
            "is_closed_payment": 1,
            "status": t["status"],
            "paid_at": t["paid_at"],
            "note": None,
        }
        body.update(changes)
        raw = json.dumps(body).encode()
        headers = {
            "Content-Type": "application/json",
            "X-Callback-Event": event,
            "X-Callback-Signature": signature or sign(self.private_key, raw),
        }
        return raw, headers


def sign(private_key: str, message: str | bytes) -> str:
    if isinstance(message, str):
        message = message.encode()
    return hmac.new(private_key.encode(), message, hashlib.sha256).hexdigest()


def _reply(success: bool, message: str, data=None, status: int = 200) -> Response:
    body = {"success": success, "message": message}
    if data is not None:
        body["data"] = data
    return Response(json.dumps(body), status=status, mimetype="application/json")
